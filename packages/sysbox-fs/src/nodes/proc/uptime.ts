// /proc/uptime: seconds since the caller's pid-namespace init started, and an idle figure that
// keeps the host's idle ratio over the CPUs the container sees (so idle <= uptime x cpus).
import { visibleCpus, hostCpus } from '../../container/cpu-view.js';
import { file, type VirtualFile } from '../../tree.js';
import { renderFor, USER_HZ, type NodeContext } from '../context.js';

export function renderUptime(host: string, initStartTicks: number, cpus: number, hostCpuCount: number): string {
  const [up, idle] = host.trim().split(/\s+/).map(Number);
  const cUp = Math.max(0, up - initStartTicks / USER_HZ);
  const idleRatio = up > 0 ? Math.min(1, idle / (up * hostCpuCount)) : 0;
  return `${cUp.toFixed(2)} ${(cUp * cpus * idleRatio).toFixed(2)}\n`;
}

export const uptime = (ctx: NodeContext): VirtualFile => file((c) => {
  const view = ctx.callers.resolve(c.pid);
  if (!view.cgroup) return ctx.readHost('/proc/uptime');
  return renderFor(ctx, view, 'uptime', () => renderUptime(ctx.readHost('/proc/uptime'), view.initStart, visibleCpus(view).length, hostCpus().length));
});
