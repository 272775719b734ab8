// sysbox-fs: flags, logging, the FUSE session (new, or taken back from the fd keeper after a
// restart), the container registry, the seccomp listener, then the gRPC server until a signal.
import fs from 'node:fs';
import path from 'node:path';
import { VERSION } from '@sysbox/common';
import { defaultPidfile, nameProcess, refuseSecondInstance, writePidfile } from '@sysbox/common/daemon/identity';
import { announceReady, takeNotifySocket } from '@sysbox/common/daemon/readiness';
import { createLogger, type LogFormat, type Logger } from '@sysbox/common/daemon/logger';
import { handlerErrorLevel } from '@sysbox/common/daemon/error-level';
import { describeRelease, releaseMemoryWhenQuiet } from '@sysbox/common/daemon/memory-release';
import { serve } from '@sysbox/common/daemon/server';
import { descriptor, SysboxFsService } from '@sysbox/common/generated/sysboxfs';
import { findMount, parseMountInfo } from '@sysbox/common/mountinfo';
import * as native from '@sysbox/native';
import { LoadTable } from './container/load-table.js';
import { Generation } from './container/record.js';
import { recalledInit, recordInit } from './daemon/init-record.js';
import { Keeper } from './daemon/keeper-client.js';
import { KEEPER_NAME, runKeeper } from './daemon/keeper-process.js';
import { startSampler } from './daemon/load-sampler.js';
import { Registry } from './daemon/registry.js';
import { holdRingsIfKeeperDies } from './daemon/ring-takeover.js';
import { SeccompListener } from './seccomp/listener.js';
import { FuseSession } from './fuse/session.js';
import { parseFsArgs, type FsArgs } from './flags.js';
import { virtualPaths } from './virtual-tree.js';

/**
 * How long the leading FUSE worker keeps looking for the next request before sleeping: the gap
 * between a reply and the same client's next request (OPEN → READ → READ → RELEASE) is ~15-30 µs
 * here. Measured in bench/proc-read.sh.
 */
const SPIN_MICROS = 50;

/** How long the trim waits for the FUSE workers' GCs (a few ms each when idle). */
const WORKER_COLLECT_WAIT_MS = 200;

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

/** Names the mount at p (its id and device), for the INIT record. */
function mountIdentity(p: string): string {
  const m = findMount(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), p);
  return m ? `${m.id} ${m.device}` : '';
}

type ModulePaths = ReturnType<typeof modulePaths>;

/** The fd keeper's name for the memfd holding the FUSE ring entries' buffers (fuse-uring.cc). */
const RING_ARENA = 'fuse-rings';

/** io_uring for FUSE is off in the kernel unless this module parameter says Y. */
const ENABLE_URING = '/sys/module/fuse/parameters/enable_uring';

/** io_uring not offered: nothing to put back. */
const NO_URING = { offer: false, restore: (): void => {} };

/**
 * Turns enable_uring on for the INIT of our mount only: the kernel keeps io_uring on for a
 * connection that agreed to it, so the host's setting goes back as it was right after. Returns
 * whether io_uring may be offered, and how to put the setting back.
 */
function enableFuseIoUring(log: Logger): { offer: boolean; restore: () => void } {
  try {
    const before = fs.readFileSync(ENABLE_URING, 'utf8').trim();
    if (before === 'Y') return { offer: true, restore: () => {} };
    fs.writeFileSync(ENABLE_URING, 'Y');
    return { offer: true, restore: () => fs.writeFileSync(ENABLE_URING, before) };
  } catch (e) {
    log.warn(`--fuse-io-uring: ${ENABLE_URING}: ${(e as Error).message}; serving from /dev/fuse`);
    return NO_URING;
  }
}

/**
 * Has the keeper own the rings. Without them (a keeper that held an earlier connection's), the
 * kernel never finds every queue ready and keeps sending requests through /dev/fuse: served, slower.
 */
async function holdRings(keeper: Keeper, log: Logger): Promise<void> {
  try {
    await keeper.holdRings();
  } catch (e) {
    log.warn(`FUSE io_uring rings not held (${(e as Error).message}): requests are served from /dev/fuse`);
  }
}

async function openSession(opts: { mods: ModulePaths; mountpoint: string; stateDir: string; keeper: Keeper; kept: Map<string, number>; workers: number; ioUring: boolean; treeConfig: unknown; log: Logger }): Promise<FuseSession> {
  const { mods } = opts;
  const sessionOpts = {
    mountpoint: opts.mountpoint,
    treeModule: mods.tree,
    treeConfig: opts.treeConfig,
    workers: opts.workers,
    ...(mods.worker ? { workerScript: mods.worker } : {}),
    // Attributes carry the reading container's root as owner. Each container has inodes of its own,
    // so they are kept for a second (not when answered to a host process: dispatch.ts): a walk's
    // stat and fstat of an emulated setting cost no GETATTR. Not longer: a freed slot goes to the
    // next container, whose stat may show the previous one's owner (nobody) that long.
    dispatch: { attrTimeout: 1 },
    spinMicros: SPIN_MICROS,
    onError: (m: string) => opts.log.error(`FUSE worker: ${m}`),
  };
  const keptFd = opts.kept.get('fuse');
  const keptArena = opts.kept.get(RING_ARENA);
  if (keptFd !== undefined && mountedAt(opts.mountpoint) === 'fuse.sysboxfs') {
    opts.log.info(`taking over the FUSE connection on ${opts.mountpoint} from the fd keeper (pid ${opts.keeper.pid})`);
    const recalled = recalledInit(opts.stateDir, mountIdentity(opts.mountpoint));
    // A connection set up for io_uring is served through rings whatever this start's flags say
    // (the kernel keeps it on for that connection even if enable_uring was turned off since).
    const session = await FuseSession.adopt(keptFd, { ...sessionOpts, initFlags: recalled.flags, ioUring: recalled.ioUring, ...(keptArena !== undefined ? { ringArenaFd: keptArena } : {}) });
    if (session.ringArena !== null) {
      if (session.ringArena !== keptArena) await opts.keeper.keep(RING_ARENA, session.ringArena);
      await holdRings(opts.keeper, opts.log);
    }
    return session;
  }
  if (keptFd !== undefined) fs.closeSync(keptFd);
  if (keptArena !== undefined) fs.closeSync(keptArena);
  // A mount whose server is gone (no keeper held it) answers ENOTCONN: replace it.
  if (mountedAt(opts.mountpoint)) native.umount(opts.mountpoint, native.constants.MNT_DETACH);
  fs.mkdirSync(opts.mountpoint, { recursive: true, mode: 0o755 });
  const uring = opts.ioUring ? enableFuseIoUring(opts.log) : NO_URING;
  let session: FuseSession;
  try {
    session = await FuseSession.mount({ ...sessionOpts, ioUring: uring.offer });
  } finally {
    uring.restore();
  }
  opts.log.info(session.ioUring ? `FUSE requests served over io_uring, a ring per CPU` : `FUSE requests served from /dev/fuse`);
  recordInit(opts.stateDir, mountIdentity(opts.mountpoint), session.initFlags, session.ioUring);
  // The arena first: a keeper holding a connection holds the arena its rings were made in.
  if (session.ringArena !== null) await opts.keeper.keep(RING_ARENA, session.ringArena);
  else await opts.keeper.drop(RING_ARENA);
  await opts.keeper.keep('fuse', session.connection);
  if (session.ringArena !== null) await holdRings(opts.keeper, opts.log);
  return session;
}

async function main(): Promise<void> {
  const argv = parseFsArgs(process.argv.slice(2));
  if (argv.keeper) return runKeeper(argv.keeperSocket);
  nameProcess('sysbox-fs', process.argv.slice(2));
  const pidfile = argv.pidfile ?? defaultPidfile(argv.socket, 'sysfs.pid');
  // Before the keeper: a second instance would take the first one's kept fds back.
  await refuseSecondInstance('sysbox-fs', argv.socket, pidfile);
  const notifySocket = takeNotifySocket();

  const log = createLogger({ level: argv.logLevel, format: argv.logFormat as LogFormat, file: argv.log });
  // --log-level fatal: the original logs nothing but the fatal error main() writes on the way out.
  if (argv.silent) log.silent = true;
  logKnobs(log, argv);
  const stateDir = argv.stateDir;
  const mountpoint = path.resolve(argv.mountpoint);
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  for (const s of [argv.socket, argv.seccompSocket, argv.keeperSocket]) fs.mkdirSync(path.dirname(s), { recursive: true, mode: 0o700 });

  const keeper = (await Keeper.connect(argv.keeperSocket))
    ?? (await Keeper.start(argv.keeperSocket, [process.argv[1], '--keeper', '--keeper-socket', argv.keeperSocket], KEEPER_NAME));
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

type Argv = FsArgs & { pidfile: string };

/** The trap knobs as the original prints them at start-up. */
function logKnobs(log: Logger, argv: FsArgs): void {
  const t = argv.traps;
  log.info(`allow-immutable-remounts ${t.allowImmutableRemounts ? 'enabled' : 'disabled (default)'}; allow-immutable-unmounts ${t.allowImmutableUnmounts ? 'enabled (default)' : 'disabled'}; seccomp-fd-release ${t.seccompFdRelease}`);
  if (argv.ignoreHandlerErrors) log.info('ignore-handler-errors enabled: failed writes through to host files are ignored (testing)');
}

/** Everything after the keeper: the FUSE session, the registry, the seccomp listener, the gRPC server. */
async function serveWith(argv: Argv, log: Logger, keeper: Keeper, kept: Map<string, number>, stateDir: string, mountpoint: string, notifySocket: string | undefined): Promise<void> {
  const mods = modulePaths();
  const generation = new Generation();
  const load = new LoadTable();
  const treeConfig = { stateDir, maxStalenessMs: argv.maxStalenessMs, ignoreHandlerErrors: argv.ignoreHandlerErrors, generation: generation.buffer, load: load.buffer };
  const session = await openSession({ mods, mountpoint, stateDir, keeper, kept, workers: argv.workers, ioUring: argv.fuseIoUring, treeConfig, log });
  let keeperQuitting = false;
  if (session.ringArena !== null) {
    holdRingsIfKeeperDies({ keeperPid: keeper.pid, fuseFd: session.connection, arenaFd: session.ringArena, mountpoint, log, quitting: () => keeperQuitting });
  }
  const virtualFiles = virtualPaths();
  const memory = releaseMemoryWhenQuiet({
    // The FUSE workers' heaps too, before the trim (they free V8 pages and malloc'd buffers).
    beforeTrim: async () => {
      session.askWorkersToCollect();
      await new Promise((r) => setTimeout(r, WORKER_COLLECT_WAIT_MS));
    },
    onReleased: (r) => log.debug(describeRelease(r)),
  });
  const registry = new Registry({ stateDir, mountpoint, virtualPaths: virtualFiles, generation, load, log, onForgotten: () => memory.request() });
  registry.restore();
  startSampler(load, () => registry.running());

  const seccomp = await SeccompListener.start({
    socket: argv.seccompSocket,
    workerScript: mods.seccompWorker,
    mountpoint,
    stateDir,
    virtualPaths: virtualFiles,
    kept: new Map([...kept].filter(([n]) => n.startsWith('seccomp:'))),
    keeper,
    log,
    traps: argv.traps,
  });

  const server = await serve({
    socket: argv.socket,
    descriptor,
    service: SysboxFsService,
    onError: (method, err) => {
      log.log(handlerErrorLevel(err), `${method}: ${(err as Error).message}`);
    },
    onCall: (method) => {
      if (method !== 'status') memory.activity();
    },
    handlers: {
      status: () => ({ version: VERSION, pid: process.pid, containers: registry.size, mountpoint, keeperKeptOpens: session.keeperKeptOpens() }),
      preRegister: (r) => {
        registry.preRegister(r);
        return { seccompListener: argv.seccompSocket };
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
    memory.stop();
    registry.close();
    server.forceShutdown();
    seccomp.stop();
    fs.rmSync(argv.socket, { force: true });
    fs.rmSync(argv.pidfile, { force: true });
    if (registry.size === 0) {
      // Nothing depends on the mount: leave the host as we found it.
      log.info(`${sig}: no containers; unmounting ${mountpoint} and stopping the fd keeper`);
      session.unmount();
      keeperQuitting = true;
      await keeper.quit().catch(() => {});
      fs.rmSync(argv.seccompSocket, { force: true });
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
