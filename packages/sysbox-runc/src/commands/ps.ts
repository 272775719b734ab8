// `sysbox-runc ps`: the container's processes. runc's own ps is passed through. crun 1.8's table
// lists only pids and takes no ps options, so for crun the table is made as runc makes it: the
// container's pids from the executor (`ps --format json`), then `ps` with the options given
// (default -ef), its header and the lines whose PID is one of them.
import { spawnSync } from 'node:child_process';
import { flagValue } from '../cli/flags.js';
import type { GlobalContext } from '../context.js';
import { executorLayout } from '../executor-layout.js';
import { runcCapture, runcPath } from '../executor.js';
import { containerId, parseCommand, passthrough } from './common.js';

/** runc's rows: the header, then each line whose PID column is one of pids. */
export function psTable(psOutput: string, pids: ReadonlySet<number>): string {
  const [header = '', ...lines] = psOutput.split('\n');
  const pidColumn = header.trim().split(/\s+/).indexOf('PID');
  if (pidColumn < 0) throw new Error("couldn't find PID field in ps output");
  const rows = lines.filter((l) => l.trim() !== '' && pids.has(Number(l.trim().split(/\s+/)[pidColumn])));
  return [header, ...rows].join('\n') + '\n';
}

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  const parsed = parseCommand('ps', argv);
  const format = flagValue(parsed, 'format') ?? 'table';
  if (executorLayout(runcPath)?.kind !== 'crun' || format !== 'table') return passthrough('ps', ctx, argv);
  const id = containerId('ps', parsed, -1);
  const listed = runcCapture([...ctx.runcGlobals, 'ps', '--format', 'json', id]);
  if (listed.status !== 0) {
    process.stderr.write(listed.stderr);
    return listed.status;
  }
  const pids = new Set((JSON.parse(listed.stdout) as unknown[]).map(Number));
  const psArgs = parsed.rest.length > 1 ? parsed.rest.slice(1) : ['-ef'];
  const ps = spawnSync('ps', psArgs, { encoding: 'utf8' });
  if (ps.error || ps.status !== 0) throw new Error(`ps ${psArgs.join(' ')}: ${ps.error?.message ?? ps.stderr.trim()}`);
  process.stdout.write(psTable(ps.stdout, pids));
  return 0;
}
