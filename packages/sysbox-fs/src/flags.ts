// sysbox-fs's command line: the original's flags, names and defaults (nestybox/sysbox-fs
// cmd/sysbox-fs/main.go), plus the paths this implementation lets tests move.
import { FS_MOUNTPOINT, FS_SOCKET, FS_STATE_DIR, RUN_DIR, SECCOMP_SOCKET } from '@sysbox/common';
import { daemonCli, logArgs, type LogArgs } from '@sysbox/common/daemon/cli';

/** When a seccomp notify fd is closed (the original's --seccomp-fd-release). */
export type SeccompFdRelease = 'proc-exit' | 'cont-exit';

/** What the syscall traps enforce; fixed for the daemon's lifetime. */
export interface TrapPolicy {
  /** An initial read-only mount may be remounted read-write from inside. */
  allowImmutableRemounts: boolean;
  /** An initial mount may be unmounted from inside. */
  allowImmutableUnmounts: boolean;
  seccompFdRelease: SeccompFdRelease;
}

export interface FsArgs extends LogArgs {
  socket: string;
  mountpoint: string;
  stateDir: string;
  seccompSocket: string;
  keeperSocket: string;
  workers: number;
  /** Offer FUSE over io_uring at mount (a worker per CPU serving its CPU's requests). */
  fuseIoUring: boolean;
  maxStalenessMs: number;
  pidfile?: string;
  keeper: boolean;
  /** A failed write through to a host file (raising a host limit) is ignored, not returned (testing). */
  ignoreHandlerErrors: boolean;
  traps: TrapPolicy;
}

export function parseFsArgs(args: string[]): FsArgs {
  const argv = daemonCli('sysbox-fs', 'Sysbox file-system daemon: per-container virtual /proc and /sys files over FUSE, syscall trapping (mount, umount2; chown and *xattr for containers that ask).', args)
    .option('mountpoint', { type: 'string', default: FS_MOUNTPOINT, describe: 'where the FUSE file system is mounted' })
    .option('allow-immutable-remounts', { type: 'boolean', default: false, describe: 'a container\'s initial mounts are immutable; this lets an initial read-only mount be remounted read-write from inside' })
    .option('allow-immutable-unmounts', { type: 'boolean', default: true, describe: 'a container\'s initial mounts are immutable; this lets them be unmounted from inside (false: umount of an initial mount fails EPERM)' })
    .option('seccomp-fd-release', { type: 'string', default: 'proc-exit', choices: ['proc-exit', 'cont-exit'], describe: 'when a syscall-interception fd is closed: when its processes exit (proc-exit), or only when the container exits (cont-exit)' })
    .option('ignore-handler-errors', { type: 'boolean', default: false, describe: 'testing: a failed write through to a host file (e.g. raising nf_conntrack hashsize) is ignored and the container\'s write succeeds' })
    .option('socket', { type: 'string', default: FS_SOCKET, describe: 'gRPC unix socket' })
    .option('state-dir', { type: 'string', default: FS_STATE_DIR, describe: 'persistent state (container records, emulated sysctls)' })
    .option('seccomp-socket', { type: 'string', default: SECCOMP_SOCKET, describe: 'OCI seccomp listener socket (syscall trapping)' })
    .option('keeper-socket', { type: 'string', default: `${RUN_DIR}/fs-keeper.sock`, describe: 'control socket of the fd keeper process' })
    .option('workers', { type: 'number', default: 2, describe: 'FUSE worker threads: one waits for requests, the others take over while it is stuck on a slow one' })
    .option('fuse-io-uring', { type: 'boolean', default: true, describe: 'serve FUSE requests over io_uring, each on the CPU it came from, rings held by the fd keeper (kernel 6.14+, where it sets fuse.enable_uring for our INIT only; else /dev/fuse). Taken at mount: a restart keeps what the connection was set up with' })
    .option('max-staleness-ms', { type: 'number', default: 10, describe: 'a virtual /proc file is rendered at most once per this period per container and worker (0: every read)' })
    .option('pidfile', { type: 'string', describe: 'write the daemon pid here (default: sysfs.pid in the socket\'s directory)' })
    .option('keeper', { type: 'boolean', default: false, hidden: true })
    .parseSync();

  return {
    ...logArgs(argv),
    socket: argv.socket,
    mountpoint: argv.mountpoint,
    stateDir: argv['state-dir'],
    seccompSocket: argv['seccomp-socket'],
    keeperSocket: argv['keeper-socket'],
    workers: argv.workers,
    fuseIoUring: argv['fuse-io-uring'],
    maxStalenessMs: argv['max-staleness-ms'],
    pidfile: argv.pidfile,
    keeper: argv.keeper,
    ignoreHandlerErrors: argv['ignore-handler-errors'],
    traps: {
      allowImmutableRemounts: argv['allow-immutable-remounts'],
      allowImmutableUnmounts: argv['allow-immutable-unmounts'],
      seccompFdRelease: argv['seccomp-fd-release'] as SeccompFdRelease,
    },
  };
}
