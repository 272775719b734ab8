// /proc/stat: cpu lines for the CPUs the container sees, renumbered, with the container's own
// user/system time (cpuacct, per CPU) and as idle the rest of that CPU's time (LXCFS's view);
// the other lines (interrupts, context switches, btime, processes) are the host's.
import { visibleCpus } from '../../container/cpu-view.js';
import { readCg, type CgroupPaths } from '../../container/cgroup.js';
import type { VirtualFile } from '../../tree.js';
import { longPageCached, renderFor, type NodeContext } from '../context.js';

/** Per host CPU: user and system time in USER_HZ ticks. */
export interface CpuUsage {
  user: number[];
  system: number[];
}

const NS_PER_TICK = 10_000_000;

function usage(cg: CgroupPaths): CpuUsage | undefined {
  const user = readCg(cg, 'cpuacct', 'cpuacct.usage_percpu_user');
  const system = readCg(cg, 'cpuacct', 'cpuacct.usage_percpu_sys');
  if (!user || !system) return undefined;
  const ticks = (s: string): number[] => s.trim().split(/\s+/).map((n) => Math.floor(Number(n) / NS_PER_TICK));
  return { user: ticks(user), system: ticks(system) };
}

export function renderStat(host: string, cpus: readonly number[], use: CpuUsage): string {
  const hostCpu = new Map<number, number[]>();
  const rest: string[] = [];
  for (const line of host.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (m) hostCpu.set(Number(m[1]), m[2].split(/\s+/).map(Number));
    else if (!line.startsWith('cpu ') && line !== '') rest.push(line);
  }
  const rows: number[][] = [];
  for (const c of cpus) {
    const h = hostCpu.get(c);
    if (!h) continue;
    const user = use.user[c] ?? 0;
    const system = use.system[c] ?? 0;
    // Fields: user nice system idle iowait irq softirq steal guest guest_nice.
    const hostTotal = h.slice(0, 8).reduce((a, b) => a + b, 0);
    rows.push([user, 0, system, Math.max(0, hostTotal - user - system), 0, 0, 0, 0, 0, 0]);
  }
  const sum = rows.reduce((acc, r) => acc.map((v, i) => v + r[i]), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  return [`cpu  ${sum.join(' ')}`, ...rows.map((r, i) => `cpu${i} ${r.join(' ')}`), ...rest].join('\n') + '\n';
}

export const stat = (ctx: NodeContext): VirtualFile => longPageCached((c) => {
  const view = ctx.callers.resolve(c.pid);
  return renderFor(ctx, view, 'stat', () => {
    const host = ctx.readHost('/proc/stat');
    const use = view.cgroup && usage(view.cgroup);
    return use ? renderStat(host, visibleCpus(view), use) : host;
  });
});
