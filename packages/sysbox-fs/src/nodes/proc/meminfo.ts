// /proc/meminfo: with a memory limit below the host's RAM, the limit is MemTotal and the cgroup's
// usage and memory.stat fill the rest (LXCFS's mapping); lines with no cgroup counterpart pass
// through. Without a limit, the host's file unchanged.
import { memoryView, type MemoryView } from '../../container/memory-view.js';
import type { VirtualFile } from '../../tree.js';
import { longPageCached, renderFor, type NodeContext } from '../context.js';

const kb = (bytes: number): number => Math.floor(bytes / 1024);

export function renderMeminfo(host: string, m: MemoryView): string {
  const s = m.stat;
  const free = m.total - m.usage;
  const cached = s('cache');
  const values: Record<string, number> = {
    MemTotal: kb(m.total),
    MemFree: kb(free),
    MemAvailable: kb(Math.min(m.total, free + s('active_file') + s('inactive_file'))),
    Buffers: 0,
    Cached: kb(cached),
    SwapCached: 0,
    Active: kb(s('active_anon') + s('active_file')),
    Inactive: kb(s('inactive_anon') + s('inactive_file')),
    'Active(anon)': kb(s('active_anon')),
    'Inactive(anon)': kb(s('inactive_anon')),
    'Active(file)': kb(s('active_file')),
    'Inactive(file)': kb(s('inactive_file')),
    Unevictable: kb(s('unevictable')),
    SwapTotal: kb(m.swapTotal),
    SwapFree: kb(m.swapTotal - m.swapUsed),
    Dirty: kb(s('dirty')),
    Writeback: kb(s('writeback')),
    AnonPages: kb(s('rss')),
    Mapped: kb(s('mapped_file')),
    Shmem: kb(s('shmem')),
  };
  return host.split('\n').map((line) => {
    const key = line.slice(0, line.indexOf(':'));
    const v = values[key];
    if (v === undefined) return line;
    return `${`${key}:`.padEnd(16)}${String(v).padStart(8)} kB`;
  }).join('\n');
}

export const meminfo = (ctx: NodeContext): VirtualFile => longPageCached((c) => {
  const view = ctx.callers.resolve(c.pid);
  return renderFor(ctx, view, 'meminfo', () => {
    const host = ctx.readHost('/proc/meminfo');
    const m = memoryView(view, host);
    return m ? renderMeminfo(host, m) : host;
  });
});
