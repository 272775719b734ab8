// sysbox-mgr: flags, logging, state, then the gRPC server until SIGTERM/SIGINT.
import fs from 'node:fs';
import path from 'node:path';
import { RUNC_PATH, VERSION } from '@sysbox/common';
import { descriptor, SysboxMgrService } from '@sysbox/common/generated/sysboxmgr';
import { createLogger, type LogFormat } from '@sysbox/common/daemon/logger';
import { defaultPidfile, nameProcess, refuseSecondInstance, writePidfile } from '@sysbox/common/daemon/identity';
import { announceReady, takeNotifySocket } from '@sysbox/common/daemon/readiness';
import { handlerErrorLevel } from '@sysbox/common/daemon/error-level';
import { describeRelease, releaseMemoryWhenQuiet } from '@sysbox/common/daemon/memory-release';
import { serve } from '@sysbox/common/daemon/server';
import { CreateSpareKeeper } from './create-spares.js';
import { checkExecutor, executorChangeWarning, publishExecutor } from './executor.js';
import { featureLines, parseMgrArgs } from './flags.js';
import { MgrService } from './service.js';
import { StateStore } from './state-store.js';
import { ensureSubidEntry } from './subid-config.js';

/** Requests that change nothing (a monitor's polling) do not postpone the release. */
const READ_ONLY_METHODS = new Set(['status', 'listContainers']);

async function main(): Promise<void> {
  nameProcess('sysbox-mgr', process.argv.slice(2));
  const notifySocket = takeNotifySocket();
  const argv = parseMgrArgs(process.argv.slice(2));
  if (argv.executorGiven) checkExecutor(argv.executor);

  const pidfile = argv.pidfile ?? defaultPidfile(argv.socket, 'sysmgr.pid');
  await refuseSecondInstance('sysbox-mgr', argv.socket, pidfile);

  const log = createLogger({ level: argv.logLevel, format: argv.logFormat as LogFormat, file: argv.log });
  if (argv.silent) log.silent = true;
  for (const { flag, reason } of argv.inert) log.info(`--${flag} has no effect: ${reason}`);
  // The original's start-up line, so an operator sees the flag took.
  if (!argv.containerDefaults.aliasDns) log.info('Sys container DNS aliasing disabled.');
  for (const line of featureLines(argv.features)) log.info(line);
  const isDefaultFiles = argv.subuidFile === '/etc/subuid' && argv.subgidFile === '/etc/subgid';
  const uidEntry = ensureSubidEntry(argv.subuidFile, isDefaultFiles);
  const gidEntry = ensureSubidEntry(argv.subgidFile, isDefaultFiles);
  if (uidEntry.start !== gidEntry.start || uidEntry.count !== gidEntry.count) {
    throw new Error(`the sysbox entries of ${argv.subuidFile} and ${argv.subgidFile} differ; make them equal`);
  }
  if (argv.executor !== RUNC_PATH) log.info(`executor: ${argv.executor} (in runc's place)`);
  fs.mkdirSync(argv.dataRoot, { recursive: true, mode: 0o700 });
  const store = new StateStore(argv.dataRoot);

  const memory = releaseMemoryWhenQuiet({ onReleased: (r) => log.debug(describeRelease(r)) });
  const svc = new MgrService({
    pool: uidEntry, mountRoot: argv.mountRoot, dataRoot: argv.dataRoot, containerDefaults: argv.containerDefaults, features: argv.features,
    onReleased: () => memory.request(),
  }, store, log);
  const server = await serve({
    socket: argv.socket,
    descriptor,
    service: SysboxMgrService,
    onError: (method, err) => {
      log.log(handlerErrorLevel(err), `${method}: ${(err as Error).message}`);
    },
    onCall: (method) => {
      if (!READ_ONLY_METHODS.has(method)) memory.activity();
    },
    handlers: {
      status: () => svc.status(),
      register: (r) => svc.register(r),
      created: (r) => svc.created(r),
      pause: (r) => svc.setState(r, 'paused'),
      resume: (r) => svc.setState(r, 'running'),
      unregister: (r) => svc.unregister(r),
      listContainers: () => svc.list(),
    },
  });
  // The bundled sysbox-runc.js beside this file; none in the unbundled build tree (unit tests).
  const createSpares = new CreateSpareKeeper({ mgrSocket: argv.socket, count: argv.createSpares, script: path.join(__dirname, 'sysbox-runc.js'), log });
  // Before the spares start and before readiness: no create may run with another executor.
  const previousExecutor = publishExecutor(argv.socket, argv.executor);
  const changed = executorChangeWarning(previousExecutor, argv.executor, store.loadAll().length);
  if (changed) log.warn(changed);
  writePidfile(pidfile);
  log.info(`sysbox-mgr ${VERSION} listening on ${argv.socket} (pool ${uidEntry.start}:${uidEntry.count}, data root ${argv.dataRoot})`);
  announceReady(log, notifySocket, `pool ${uidEntry.start}:${uidEntry.count}`);
  // After readiness: the spares' Node start-ups come after the daemon serves, not before.
  setImmediate(() => createSpares.start());

  const stop = (sig: string): void => {
    log.info(`${sig}: shutting down; container state stays in ${argv.dataRoot}`);
    server.forceShutdown();
    memory.stop();
    createSpares.stop();
    fs.rmSync(pidfile, { force: true });
    fs.rmSync(argv.socket, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`level=fatal msg=${JSON.stringify((err as Error).message)}\n`);
  process.exit(1);
});
