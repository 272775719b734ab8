// What every virtual-node handler gets: who is calling, the host's own files, and the shared
// per-container state. Handlers are pure functions of these, one file per node.
import type { CallerResolver, CallerView } from '../container/caller.js';
import { readKept } from '../container/kept-files.js';
import type { LoadTable } from '../container/load-table.js';
import { file, type VirtualFile } from '../tree.js';

export interface NodeContext {
  callers: CallerResolver;
  /**
   * Milliseconds a rendered read-only file may be served again to the same container (pid
   * namespace) by the same worker: bounds the work a read storm costs (one rendering per file,
   * container and worker per period) at the price of values that old. 0: render every read.
   */
  maxStalenessMs: number;
  load: LoadTable;
  stateDir: string;
  /** Reads a host file (sysbox-fs runs in the host's namespaces). */
  readHost(path: string): string;
  /**
   * sysbox-fs --ignore-handler-errors (the original's test mode): a write through to a host file
   * that fails does not fail the container's write.
   */
  ignoreHandlerErrors?: boolean;
}

export const readHostFile = readKept;

/**
 * A read-only node's content for this caller's view, rendered at most once per maxStalenessMs
 * (kept on the view, which the resolver caches per pid namespace and drops on any registration
 * change).
 */
export function renderFor(ctx: NodeContext, view: CallerView, key: string, render: () => string): string {
  if (ctx.maxStalenessMs <= 0) return render();
  const now = performance.now();
  const rendered = (view.rendered ??= new Map());
  const hit = rendered.get(key);
  if (hit && now - hit.at <= ctx.maxStalenessMs) return hit.text;
  const text = render();
  rendered.set(key, { at: now, text });
  return text;
}

/** Clock ticks per second in /proc/PID/stat and /proc/stat (USER_HZ, 100 on every Linux ABI). */
export const USER_HZ = 100;

/**
 * A /proc file page-cached in the table of long renderings (fuse/kept-pages.ts; meminfo, stat,
 * cpuinfo, diskstats): a read costs one OPEN while the rendering stays (renderings change at most
 * once per --max-staleness-ms), OPEN + READ when it moved on; a rendering longer than a page stays
 * direct I/O.
 */
export function longPageCached(read: VirtualFile['read']): VirtualFile {
  return { ...file(read), pageCached: true, longRendering: true };
}
