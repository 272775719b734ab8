// /proc/swaps: never the host's swap devices; inside a container, one "none virtual" line with
// the swap its cgroup may use (memsw limit - memory limit, at most the host's swap), or only the
// header when it has none.
import { meminfoKb, memoryView } from '../../container/memory-view.js';
import { file, type VirtualFile } from '../../tree.js';
import type { NodeContext } from '../context.js';

const HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';

export function renderSwaps(totalKb: number, usedKb: number): string {
  return totalKb > 0 ? `${HEADER}none\t\t\t\t\tvirtual\t\t${totalKb}\t\t${usedKb}\t\t0\n` : HEADER;
}

export const swaps = (ctx: NodeContext): VirtualFile => file((c) => {
  const view = ctx.callers.resolve(c.pid);
  if (!view.cgroup) return ctx.readHost('/proc/swaps');
  const host = ctx.readHost('/proc/meminfo');
  const m = memoryView(view, host);
  if (m) return renderSwaps(Math.floor(m.swapTotal / 1024), Math.floor(m.swapUsed / 1024));
  const total = meminfoKb(host, 'SwapTotal');
  return renderSwaps(total, total - meminfoKb(host, 'SwapFree'));
});
