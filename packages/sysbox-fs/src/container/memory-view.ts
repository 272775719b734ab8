// A container's memory and swap as /proc/meminfo and /proc/swaps should show them: the cgroup's
// limit (the smallest up the hierarchy) as the total, its usage and memory.stat for the rest.
// Undefined when nothing limits it below the host's RAM: the host's own figures then apply.
import type { CallerView } from './caller.js';
import { effectiveLimit, readCg, readCgNumber } from './cgroup.js';
import { cachedLimit } from './limits-cache.js';

export interface MemoryView {
  /** Bytes. */
  total: number;
  usage: number;
  /** memory.stat's hierarchical figure (total_<key>, else <key>), in bytes. */
  stat: (key: string) => number;
  swapTotal: number;
  swapUsed: number;
}

export interface HostMemory {
  memTotal: number;
  swapTotal: number;
}

/** One "key value" line of memory.stat, found without splitting the file (~40 lines, read per open). */
function statValue(text: string, key: string): number | undefined {
  const at = text.startsWith(`${key} `) ? 0 : text.indexOf(`\n${key} `) + 1;
  if (at <= 0 && !text.startsWith(`${key} `)) return undefined;
  return parseInt(text.slice(at + key.length + 1, text.indexOf('\n', at)), 10);
}

/** One kB figure of /proc/meminfo ("MemTotal"), without parsing the rest. */
export function meminfoKb(text: string, key: string): number {
  const at = text.indexOf(`${key}:`);
  if (at < 0) return 0;
  return parseInt(text.slice(at + key.length + 1, text.indexOf('\n', at)), 10) || 0;
}

/** kB figures of /proc/meminfo by key. */
export function parseMeminfo(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

export function memoryView(view: CallerView, host: HostMemory): MemoryView | undefined {
  const cg = view.cgroup;
  if (!cg) return undefined;
  const limit = cachedLimit(view, 'memory', () => effectiveLimit(cg, 'memory', 'memory.limit_in_bytes'));
  if (limit === undefined || limit >= host.memTotal) return undefined;
  const usage = Math.min(readCgNumber(cg, 'memory', 'memory.usage_in_bytes') ?? 0, limit);
  const text = readCg(cg, 'memory', 'memory.stat') ?? '';
  const stat = (key: string): number => statValue(text, `total_${key}`) ?? statValue(text, key) ?? 0;
  // With swap accounting, memsw limit - memory limit is the swap the container may use; never
  // more than the host has (no swap on the host: none in the container).
  const memsw = cachedLimit(view, 'memsw', () => effectiveLimit(cg, 'memory', 'memory.memsw.limit_in_bytes'));
  const swapTotal = memsw === undefined ? 0 : Math.max(0, Math.min(memsw - limit, host.swapTotal));
  const memswUsage = swapTotal > 0 ? readCgNumber(cg, 'memory', 'memory.memsw.usage_in_bytes') ?? usage : usage;
  const swapUsed = Math.min(swapTotal, Math.max(0, memswUsage - usage));
  return { total: limit, usage, stat, swapTotal, swapUsed };
}
