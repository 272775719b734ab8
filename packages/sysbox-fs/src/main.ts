// sysbox-fs: flags, logging, the FUSE session (new, or taken back from the fd keeper after a
// restart), the container registry, the seccomp listener, then the gRPC server until a signal.
import fs from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { FS_MOUNTPOINT, FS_SOCKET, FS_STATE_DIR, RUN_DIR, SECCOMP_SOCKET, VERSION } from '@sysbox/common';
import { defaultPidfile, nameProcess, refuseSecondInstance, writePidfile } from '@sysbox/common/daemon/identity';
import { announceReady, takeNotifySocket } from '@sysbox/common/daemon/readiness';
import { createLogger, type LogFormat, type Logger } from '@sysbox/common/daemon/logger';
import { handlerErrorLevel } from '@sysbox/common/daemon/error-level';
import { versionText } from '@sysbox/common/version';
import { serve } from '@sysbox/common/daemon/server';
import { descriptor, SysboxFsService } from '@sysbox/common/generated/sysboxfs';
import { findMount, parseMountInfo } from '@sysbox/common/mountinfo';
import * as native from '@sysbox/native';
import { LoadTable } from './container/load-table.js';
import { Generation } from './container/record.js';
import { Keeper } from './daemon/keeper-client.js';
import { KEEPER_NAME, runKeeper } from './daemon/keeper-process.js';
import { startSampler } from './daemon/load-sampler.js';
import { Registry } from './daemon/registry.js';
import { SeccompListener } from './seccomp/listener.js';
import { FuseSession } from './fuse/session.js';
import { virtualPaths } from './virtual-tree.js';

/**
 * How long the leading FUSE worker keeps looking for the next request before sleeping: the gap
 * between a reply and the same client's next request (OPEN → READ → READ → RELEASE) is ~15-30 µs
 * here. Measured in bench/proc-read.sh.
 */
const SPIN_MICROS = 50;

/** Bundled (out/bin, /usr/lib/sysbox): the worker and tree are files of their own beside us. */
function modulePaths(): { worker?: string; tree: string; seccompWorker: string } {
  const bundled = path.join(__dirname, 'sysbox-fs-worker.js');
  if (fs.existsSync(bundled)) {
    return { worker: bundled, tree: path.join(__dirname, 'sysbox-fs-tree.js'), seccompWorker: path.join(__dirname, 'sysbox-fs-seccomp.js') };
  }
  return { tree: path.join(__dirname, 'virtual-tree.js'), seccompWorker: path.join(__dirname, 'seccomp', 'worker.js') };
}

/** The file system type mounted at p, if anything is. */
function mountedAt(p: string): string | undefined {
  return findMount(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), p)?.fsType;
}

type ModulePaths = ReturnType<typeof modulePaths>;

async function openSession(opts: { mods: ModulePaths; mountpoint: string; keeper: Keeper; kept: Map<string, number>; workers: number; treeConfig: unknown; log: Logger }): Promise<FuseSession> {
  const { mods } = opts;
  const sessionOpts = {
    mountpoint: opts.mountpoint,
    treeModule: mods.tree,
    treeConfig: opts.treeConfig,
    workers: opts.workers,
    ...(mods.worker ? { workerScript: mods.worker } : {}),
    // Attributes carry the reading container's root as owner: never cache them across readers.
    dispatch: { attrTimeout: 0 },
    spinMicros: SPIN_MICROS,
    onError: (m: string) => opts.log.error(`FUSE worker: ${m}`),
  };
  const keptFd = opts.kept.get('fuse');
  if (keptFd !== undefined && mountedAt(opts.mountpoint) === 'fuse.sysboxfs') {
    opts.log.info(`taking over the FUSE connection on ${opts.mountpoint} from the fd keeper (pid ${opts.keeper.pid})`);
    return FuseSession.adopt(keptFd, sessionOpts);
  }
  if (keptFd !== undefined) fs.closeSync(keptFd);
  // A mount whose server is gone (no keeper held it) answers ENOTCONN: replace it.
  if (mountedAt(opts.mountpoint)) native.umount(opts.mountpoint, native.constants.MNT_DETACH);
  fs.mkdirSync(opts.mountpoint, { recursive: true, mode: 0o755 });
  const session = await FuseSession.mount(sessionOpts);
  await opts.keeper.keep('fuse', session.connection);
  return session;
}

async function main(): Promise<void> {
  const argv = yargs(process.argv.slice(2))
    .scriptName('sysbox-fs')
    .usage('$0 [options]\n\nSysbox file-system daemon: per-container virtual /proc and /sys files over FUSE, mount trapping.')
    .option('log', { type: 'string', describe: 'log file (default: stderr)' })
    .option('log-level', { type: 'string', default: 'info', choices: ['error', 'warn', 'info', 'debug'] })
    .option('log-format', { type: 'string', default: 'text', choices: ['text', 'json'] })
    .option('socket', { type: 'string', default: FS_SOCKET, describe: 'gRPC unix socket' })
    .option('mountpoint', { type: 'string', default: FS_MOUNTPOINT, describe: 'where the FUSE file system is mounted' })
    .option('state-dir', { type: 'string', default: FS_STATE_DIR, describe: 'persistent state (container records, emulated sysctls)' })
    .option('seccomp-socket', { type: 'string', default: SECCOMP_SOCKET, describe: 'OCI seccomp listener socket (mount trapping)' })
    .option('keeper-socket', { type: 'string', default: `${RUN_DIR}/fs-keeper.sock`, describe: 'control socket of the fd keeper process' })
    .option('workers', { type: 'number', default: 2, describe: 'FUSE worker threads: one waits for requests, the others take over while it is stuck on a slow one' })
    .option('max-staleness-ms', { type: 'number', default: 10, describe: 'a virtual /proc file is rendered at most once per this period per container and worker (0: every read)' })
    .option('pidfile', { type: 'string', describe: 'write the daemon pid here (default: sysfs.pid in the socket\'s directory)' })
    .option('keeper', { type: 'boolean', default: false, hidden: true })
    .version(versionText('sysbox-fs').trimEnd())
    // A flag given twice takes its last value, as with the original's Go flags: the documented
    // `sed -i '/^ExecStart/ s/$/ --log-level debug/'` on a unit leaves `--log-level info --log-level debug`.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .strict()
    .fail((msg, err) => {
      process.stderr.write(`level=error msg=${JSON.stringify(msg ?? err?.message ?? 'bad arguments')}\n`);
      process.exit(2);
    })
    .parseSync();

  if (argv.keeper) return runKeeper(argv['keeper-socket']);
  nameProcess('sysbox-fs', process.argv.slice(2));
  const pidfile = argv.pidfile ?? defaultPidfile(argv.socket, 'sysfs.pid');
  // Before the keeper: a second instance would take the first one's kept fds back.
  await refuseSecondInstance('sysbox-fs', argv.socket, pidfile);
  const notifySocket = takeNotifySocket();

  const log = createLogger({ level: argv['log-level'], format: argv['log-format'] as LogFormat, file: argv.log });
  const stateDir = argv['state-dir'];
  const mountpoint = path.resolve(argv.mountpoint);
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  for (const s of [argv.socket, argv['seccomp-socket'], argv['keeper-socket']]) fs.mkdirSync(path.dirname(s), { recursive: true, mode: 0o700 });

  const keeper = (await Keeper.connect(argv['keeper-socket']))
    ?? (await Keeper.start(argv['keeper-socket'], [process.argv[1], '--keeper', '--keeper-socket', argv['keeper-socket']], KEEPER_NAME));
  const kept = await keeper.takeBack();
  try {
    await serveWith({ ...argv, pidfile }, log, keeper, kept, stateDir, mountpoint, notifySocket);
  } catch (e) {
    // A first start that failed: nothing depends on the mount or the keeper; neither may outlive us.
    if (kept.size === 0) {
      try {
        if (mountedAt(mountpoint) === 'fuse.sysboxfs') native.umount(mountpoint, native.constants.MNT_DETACH);
      } catch { /* report the error that brought us here, not this one */ }
      await keeper.quit().catch(() => {});
    }
    throw e;
  }
}

type Argv = { socket: string; 'seccomp-socket': string; 'keeper-socket': string; workers: number; 'max-staleness-ms': number; pidfile: string };

/** Everything after the keeper: the FUSE session, the registry, the seccomp listener, the gRPC server. */
async function serveWith(argv: Argv, log: Logger, keeper: Keeper, kept: Map<string, number>, stateDir: string, mountpoint: string, notifySocket: string | undefined): Promise<void> {
  const mods = modulePaths();
  const generation = new Generation();
  const load = new LoadTable();
  const treeConfig = { stateDir, maxStalenessMs: argv['max-staleness-ms'], generation: generation.buffer, load: load.buffer };
  const session = await openSession({ mods, mountpoint, keeper, kept, workers: argv.workers, treeConfig, log });
  const virtualFiles = virtualPaths();
  const registry = new Registry({ stateDir, mountpoint, virtualPaths: virtualFiles, generation, load, log });
  registry.restore();
  startSampler(load, () => registry.running());

  const seccomp = await SeccompListener.start({
    socket: argv['seccomp-socket'],
    workerScript: mods.seccompWorker,
    mountpoint,
    stateDir,
    virtualPaths: virtualFiles,
    kept: new Map([...kept].filter(([n]) => n.startsWith('seccomp:'))),
    keeper,
    log,
  });

  const server = await serve({
    socket: argv.socket,
    descriptor,
    service: SysboxFsService,
    onError: (method, err) => {
      log.log(handlerErrorLevel(err), `${method}: ${(err as Error).message}`);
    },
    handlers: {
      status: () => ({ version: VERSION, pid: process.pid, containers: registry.size, mountpoint }),
      preRegister: (r) => {
        registry.preRegister(r);
        return { seccompListener: argv['seccomp-socket'] };
      },
      register: (r) => ({ virtualPaths: registry.register(r) }),
      unregister: (r) => {
        registry.unregister(r);
        return {};
      },
    },
  });
  writePidfile(argv.pidfile);
  log.info(`sysbox-fs ${VERSION} listening on ${argv.socket}; FUSE on ${mountpoint} (${session.workerCount} workers, ${virtualFiles.length} virtual files), ${registry.size} containers restored`);
  announceReady(log, notifySocket, `serving ${registry.size} containers`);

  const stop = async (sig: string): Promise<void> => {
    server.forceShutdown();
    seccomp.stop();
    fs.rmSync(argv.socket, { force: true });
    fs.rmSync(argv.pidfile, { force: true });
    if (registry.size === 0) {
      // Nothing depends on the mount: leave the host as we found it.
      log.info(`${sig}: no containers; unmounting ${mountpoint} and stopping the fd keeper`);
      session.unmount();
      await keeper.quit().catch(() => {});
      fs.rmSync(argv['seccomp-socket'], { force: true });
    } else {
      log.info(`${sig}: ${registry.size} containers still use sysbox-fs; the fd keeper holds their connections for the next start`);
    }
    // Not process.exit(): it would join the FUSE workers, which may each take one more request
    // from the kernel and die without answering it (that reader would hang for good).
    await Promise.race([new Promise<void>((resolve) => log.on('finish', resolve).end()), new Promise((r) => setTimeout(r, 300))]);
    native.exitNow(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`level=fatal msg=${JSON.stringify((err as Error).message ?? String(err))}\n`);
  // Not process.exit(): it would wait for the FUSE worker sleeping in poll on /dev/fuse.
  native.exitNow(1);
});
