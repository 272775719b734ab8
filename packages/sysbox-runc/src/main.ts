// sysbox-runc entry point: runc's global flags, then one command module, loaded on demand so each
// invocation pays only for what its command uses (this runs 4+ times per `docker run`).
import { versionText } from '@sysbox/common/version';
import { GLOBAL_FLAGS, flagSet, flagValue, parseFlags, UsageError } from './cli/flags.js';
import type { Command } from './commands/common.js';
import { globalContext } from './context.js';
import { runcCapture, runcPath } from './executor.js';
import { configureLog, logFatal } from './log.js';

type Loader = () => Promise<{ command: Command }>;

const COMMANDS: Record<string, { load: Loader; usage: string }> = {
  checkpoint: { load: () => import('./commands/checkpoint.js'), usage: 'checkpoint a running container (not supported)' },
  create: { load: () => import('./commands/create.js'), usage: 'create a system container' },
  delete: { load: () => import('./commands/delete.js'), usage: 'delete any resources held by the container' },
  events: { load: () => import('./commands/events.js'), usage: 'display container events such as OOM notifications, cpu, memory, and IO usage statistics' },
  exec: { load: () => import('./commands/exec.js'), usage: 'execute new process inside the container' },
  features: { load: () => import('./commands/features.js'), usage: 'show the enabled features' },
  kill: { load: () => import('./commands/kill.js'), usage: "kill sends the specified signal (default: SIGTERM) to the container's init process" },
  list: { load: () => import('./commands/list.js'), usage: 'lists containers started by sysbox-runc with the given root' },
  pause: { load: () => import('./commands/pause.js'), usage: 'pause suspends all processes inside the container' },
  ps: { load: () => import('./commands/ps.js'), usage: 'ps displays the processes running inside a container' },
  restore: { load: () => import('./commands/restore.js'), usage: 'restore a container from a previous checkpoint (not supported)' },
  resume: { load: () => import('./commands/resume.js'), usage: 'resumes all processes that have been previously paused' },
  run: { load: () => import('./commands/run.js'), usage: 'create and run a system container' },
  spec: { load: () => import('./commands/spec.js'), usage: 'create a new specification file' },
  start: { load: () => import('./commands/start.js'), usage: 'executes the user defined process in a created container' },
  state: { load: () => import('./commands/state.js'), usage: 'output the state of a container' },
  update: { load: () => import('./commands/update.js'), usage: 'update container resource constraints' },
};

function usage(): string {
  const cmds = Object.entries(COMMANDS).map(([n, c]) => `   ${n.padEnd(12)}${c.usage}`).join('\n');
  return `NAME:\n   sysbox-runc - system container runtime (runc-compatible; executor: ${runcPath})\n\n` +
    `USAGE:\n   sysbox-runc [global options] command [command options] [arguments...]\n\nCOMMANDS:\n${cmds}\n\n` +
    'GLOBAL OPTIONS:\n   --debug              enable debug logging\n   --log value          set the log file to write sysbox-runc logs to (default is stderr)\n' +
    '   --log-format value   set the log format (\'text\' (default), or \'json\') (default: "text")\n' +
    '   --root value         root directory for storage of container state (default: "/run/runc")\n' +
    '   --criu value         path to the criu binary used for checkpoint and restore\n' +
    '   --systemd-cgroup     enable systemd cgroup support\n   --rootless value     ignore cgroup permission errors (\'true\', \'false\', or \'auto\')\n' +
    '   --sysbox-mgr-socket value  sysbox-mgr gRPC socket (default: "/run/sysbox/sysmgr.sock")\n' +
    '   --sysbox-fs-socket value   sysbox-fs gRPC socket (default: "/run/sysbox/sysfs.sock")\n' +
    '   --no-kernel-check    accepted for the original Sysbox\'s command lines; no effect (no kernel check to skip)\n' +
    '   --help, -h           show help\n   --version, -v        print the version\n';
}

/** The original's fields, then the runc this runtime drives and that runc's own `--version`. */
function version(): string {
  const executor = runcCapture(['--version']).stdout.trim().split('\n');
  return versionText('sysbox-runc', [['oci-specs', '1.0.2-dev'], ['executor', runcPath]], executor.map((l) => `\t\t${l}`));
}

async function main(argv: readonly string[]): Promise<number> {
  const globals = parseFlags(argv, GLOBAL_FLAGS);
  const format = flagValue(globals, 'log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`invalid log format "${format}"`);
  configureLog({ file: flagValue(globals, 'log'), format, debug: flagSet(globals, 'debug') });
  if (flagSet(globals, 'version')) { process.stdout.write(version()); return 0; }
  const [name, ...rest] = globals.rest;
  if (flagSet(globals, 'help') || name === undefined || name === 'help') { process.stdout.write(usage()); return 0; }
  const cmd = COMMANDS[name];
  if (!cmd) throw new UsageError(`No help topic for '${name}'`);
  const { command: run } = await cmd.load();
  return run(globalContext(globals), rest);
}

main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (err: unknown) => {
    logFatal((err as Error).message);
    process.exit(err instanceof UsageError ? 1 : (err as { exitCode?: number }).exitCode ?? 1);
  },
);
