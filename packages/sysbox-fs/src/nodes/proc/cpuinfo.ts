// /proc/cpuinfo: the host's blocks for the CPUs the container sees (cpuset, cut to its CFS quota),
// renumbered from 0 as a machine with that many CPUs would show them.
import { visibleCpus } from '../../container/cpu-view.js';
import type { VirtualFile } from '../../tree.js';
import { longPageCached, renderFor, type NodeContext } from '../context.js';

export function renderCpuinfo(host: string, cpus: readonly number[]): string {
  const blocks = new Map<number, string>();
  const other: string[] = [];
  for (const block of host.split('\n\n')) {
    const m = /^processor\s*:\s*(\d+)/m.exec(block);
    if (m) blocks.set(Number(m[1]), block);
    else if (block.trim() !== '') other.push(block);
  }
  const shown = cpus.filter((c) => blocks.has(c)).map((c, i) => blocks.get(c)!.replace(/^(processor\s*:\s*)\d+/m, `$1${i}`));
  return `${[...shown, ...other].join('\n\n')}\n\n`;
}

// The host's /proc/cpuinfo costs ~30 µs to generate and barely changes (only "cpu MHz"): it is
// re-read at most once a second.
let hostText = '';
let hostReadAt = -Infinity;

export const cpuinfo = (ctx: NodeContext): VirtualFile => longPageCached((c) => {
  const now = performance.now();
  if (now - hostReadAt > 1000) {
    hostText = ctx.readHost('/proc/cpuinfo');
    hostReadAt = now;
  }
  const host = hostText;
  const view = ctx.callers.resolve(c.pid);
  return view.cgroup ? renderFor(ctx, view, 'cpuinfo', () => renderCpuinfo(host, visibleCpus(view))) : host;
});
