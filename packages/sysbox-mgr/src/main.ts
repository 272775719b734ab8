// sysbox-mgr: flags, logging, state, then the gRPC server until SIGTERM/SIGINT.
import fs from 'node:fs';
import path from 'node:path';
import yargs from 'yargs';
import { DATA_ROOT, MGR_SOCKET, MOUNT_ROOT, VERSION } from '@sysbox/common';
import { descriptor, SysboxMgrService } from '@sysbox/common/generated/sysboxmgr';
import { createLogger, type LogFormat } from '@sysbox/common/daemon/logger';
import { defaultPidfile, nameProcess, refuseSecondInstance, writePidfile } from '@sysbox/common/daemon/identity';
import { announceReady, takeNotifySocket } from '@sysbox/common/daemon/readiness';
import { handlerErrorLevel } from '@sysbox/common/daemon/error-level';
import { versionText } from '@sysbox/common/version';
import { serve } from '@sysbox/common/daemon/server';
import { startRootfsViewSpares, stopRootfsViewSpares } from './rootfs-view/process.js';
import { MgrService } from './service.js';
import { StateStore } from './state-store.js';
import { ensureSubidEntry } from './subid-config.js';

async function main(): Promise<void> {
  nameProcess('sysbox-mgr', process.argv.slice(2));
  const notifySocket = takeNotifySocket();
  const argv = yargs(process.argv.slice(2))
    .scriptName('sysbox-mgr')
    .usage('$0 [options]\n\nSysbox manager daemon: id ranges, ID-shifted mounts, container state.')
    .option('log', { type: 'string', describe: 'log file (default: stderr)' })
    .option('log-level', { type: 'string', default: 'info', choices: ['error', 'warn', 'info', 'debug'] })
    .option('log-format', { type: 'string', default: 'text', choices: ['text', 'json'] })
    .option('data-root', { type: 'string', default: DATA_ROOT, describe: 'persistent state directory' })
    .option('socket', { type: 'string', default: MGR_SOCKET, describe: 'gRPC unix socket' })
    .option('mount-root', { type: 'string', default: MOUNT_ROOT, describe: 'per-container mount points (must be traversable by container ids)' })
    .option('subuid-file', { type: 'string', default: '/etc/subuid' })
    .option('subgid-file', { type: 'string', default: '/etc/subgid' })
    .option('pidfile', { type: 'string', describe: 'write the daemon pid here (default: sysmgr.pid in the socket\'s directory)' })
    .version(versionText('sysbox-mgr').trimEnd())
    // A flag given twice takes its last value, as with the original's Go flags: the documented
    // `sed -i '/^ExecStart/ s/$/ --log-level debug/'` on a unit leaves `--log-level info --log-level debug`.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .strict()
    .fail((msg, err) => {
      process.stderr.write(`level=error msg=${JSON.stringify(msg ?? err?.message ?? 'bad arguments')}\n`);
      process.exit(2);
    })
    .parseSync();

  const pidfile = argv.pidfile ?? defaultPidfile(argv.socket, 'sysmgr.pid');
  await refuseSecondInstance('sysbox-mgr', argv.socket, pidfile);

  const log = createLogger({ level: argv['log-level'], format: argv['log-format'] as LogFormat, file: argv.log });
  const isDefaultFiles = argv['subuid-file'] === '/etc/subuid' && argv['subgid-file'] === '/etc/subgid';
  const uidEntry = ensureSubidEntry(argv['subuid-file'], isDefaultFiles);
  const gidEntry = ensureSubidEntry(argv['subgid-file'], isDefaultFiles);
  if (uidEntry.start !== gidEntry.start || uidEntry.count !== gidEntry.count) {
    throw new Error(`the sysbox entries of ${argv['subuid-file']} and ${argv['subgid-file']} differ; make them equal`);
  }
  fs.mkdirSync(argv['data-root'], { recursive: true, mode: 0o700 });
  const store = new StateStore(argv['data-root']);
  const svc = new MgrService({ pool: uidEntry, mountRoot: argv['mount-root'], dataRoot: argv['data-root'] }, store, log);

  const server = await serve({
    socket: argv.socket,
    descriptor,
    service: SysboxMgrService,
    onError: (method, err) => {
      log.log(handlerErrorLevel(err), `${method}: ${(err as Error).message}`);
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
  // Only once the socket is ours: a second instance, refused above, must not touch the first's spare.
  startRootfsViewSpares(path.dirname(argv.socket));
  writePidfile(pidfile);
  log.info(`sysbox-mgr ${VERSION} listening on ${argv.socket} (pool ${uidEntry.start}:${uidEntry.count}, data root ${argv['data-root']})`);
  announceReady(log, notifySocket, `pool ${uidEntry.start}:${uidEntry.count}`);

  const stop = (sig: string): void => {
    log.info(`${sig}: shutting down; container state stays in ${argv['data-root']}`);
    server.forceShutdown();
    stopRootfsViewSpares();
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
