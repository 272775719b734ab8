// /proc/loadavg: the container's own load (runnable + uninterruptible tasks of its cgroup,
// averaged over 1/5/15 min by the daemon's sampler, as LXCFS does), its running/total tasks and
// the highest pid in its namespace.
import { file, type VirtualFile } from '../../tree.js';
import type { LoadEntry } from '../../container/load-table.js';
import type { NodeContext } from '../context.js';

export function renderLoadavg(e: LoadEntry): string {
  return `${e.load1.toFixed(2)} ${e.load5.toFixed(2)} ${e.load15.toFixed(2)} ${e.running}/${e.total} ${e.lastPid}\n`;
}

// Page-cached (fuse/kept-pages.ts): the figures move every 5 s, so most reads cost one OPEN.
export const loadavg = (ctx: NodeContext): VirtualFile => ({
  ...file((c) => {
    const view = ctx.callers.resolve(c.pid);
    if (!view.container) return ctx.readHost('/proc/loadavg');
    return renderLoadavg(ctx.load.get(view.container.slot));
  }),
  pageCached: true,
});
