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

// Page-cached (fuse/kept-pages.ts): a read costs one OPEN while the rendering stays (renderings
// change at most once per --max-staleness-ms) and OPEN + READ when it moved on. A pid namespace
// nested in the container renders another uptime: each OPEN compares the caller's own rendering,
// and while handles read one rendering another caller's opens go direct I/O.
export const uptime = (ctx: NodeContext): VirtualFile => ({
  ...file((c) => {
    const view = ctx.callers.resolve(c.pid);
    if (!view.cgroup) return ctx.readHost('/proc/uptime');
    return renderFor(ctx, view, 'uptime', () => renderUptime(ctx.readHost('/proc/uptime'), view.initStart, visibleCpus(view).length, hostCpus().length));
  }),
  pageCached: true,
});
