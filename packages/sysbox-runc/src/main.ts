// sysbox-runc entry point: runc's global flags, then one command module, loaded on demand so each
// invocation pays only for what its command uses (this runs 4+ times per `docker run`).
import { versionText } from '@sysbox/common/version';
import { CREATE_SPARE_ENV } from '@sysbox/common/create-spare';
import { asksHelp, GLOBAL_FLAGS, flagSet, parseFlags, UsageError } from './cli/flags.js';
import type { Command } from './commands/common.js';
import { globalContext } from './context.js';
import { applyGlobalFlags } from './cli/setup.js';
import { runcCapture, runcPath } from './executor.js';
import { log, logFatal } from './log.js';

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

/** The original's fields, then the runc this runtime drives and that runc's own `--version`. */
function version(): string {
  const executor = runcCapture(['--version']).stdout.trim().split('\n');
  return versionText('sysbox-runc', [['oci-specs', '1.0.2-dev'], ['executor', runcPath]], executor.map((l) => `\t\t${l}`));
}

async function main(argv: readonly string[]): Promise<number> {
  const globals = parseFlags(argv, GLOBAL_FLAGS);
  applyGlobalFlags(globals);
  log('debug', `main module loaded (process started at ${performance.timeOrigin.toFixed(1)})`);
  if (flagSet(globals, 'version')) { process.stdout.write(version()); return 0; }
  const [name, ...rest] = globals.rest;
  const helpCmd = name === 'help' || name === 'h';
  if (flagSet(globals, 'help') || name === undefined || helpCmd) {
    const topic = helpCmd && !flagSet(globals, 'help') ? rest[0] : undefined;
    const help = await import('./cli/help.js');
    if (topic === undefined) {
      process.stdout.write(help.globalHelp(Object.fromEntries(Object.entries(COMMANDS).map(([n, c]) => [n, c.usage])), runcPath));
      return 0;
    }
    if (!COMMANDS[topic]) throw new UsageError(`No help topic for '${topic}'`);
    process.stdout.write(help.commandHelp(topic, COMMANDS[topic]!.usage));
    return 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) throw new UsageError(`No help topic for '${name}'`);
  if (asksHelp(name, rest)) {
    process.stdout.write((await import('./cli/help.js')).commandHelp(name, cmd.usage));
    return 0;
  }
  const { command: run } = await cmd.load();
  return run(globalContext(globals), rest);
}

// A pre-started create (create-spare.ts) is started by sysbox-mgr with its directory in the environment.
const spareDir = process.env[CREATE_SPARE_ENV];
if (spareDir) {
  delete process.env[CREATE_SPARE_ENV];
  void import('./create-spare.js').then((m) => m.serveCreates(spareDir, process.argv.slice(2)));
} else main(process.argv.slice(2)).then(
  (status) => process.exit(status),
  (err: unknown) => {
    logFatal((err as Error).message);
    process.exit(err instanceof UsageError ? 1 : (err as { exitCode?: number }).exitCode ?? 1);
  },
);
