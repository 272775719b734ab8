// A container's memory and swap as /proc/meminfo and /proc/swaps should show them: the cgroup's
// limit (the smallest up the hierarchy) as the total, its usage and memory.stat for the rest.
// Undefined when nothing limits it below the host's RAM: the host's own figures then apply.
import type { CallerView } from './caller.js';
import { effectiveLimit, parseKeyValues, readCg, readCgNumber } from './cgroup.js';

export interface MemoryView {
  /** Bytes. */
  total: number;
  usage: number;
  stat: Map<string, number>;
  swapTotal: number;
  swapUsed: number;
}

export interface HostMemory {
  memTotal: number;
  swapTotal: number;
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
  if (!view.cgroup) return undefined;
  const limit = effectiveLimit(view.cgroup, 'memory', 'memory.limit_in_bytes');
  if (limit === undefined || limit >= host.memTotal) return undefined;
  const usage = Math.min(readCgNumber(view.cgroup, 'memory', 'memory.usage_in_bytes') ?? 0, limit);
  const stat = parseKeyValues(readCg(view.cgroup, 'memory', 'memory.stat'));
  // With swap accounting, memsw limit - memory limit is the swap the container may use; never
  // more than the host has (no swap on the host: none in the container).
  const memsw = effectiveLimit(view.cgroup, 'memory', 'memory.memsw.limit_in_bytes');
  const swapTotal = memsw === undefined ? 0 : Math.max(0, Math.min(memsw - limit, host.swapTotal));
  const memswUsage = readCgNumber(view.cgroup, 'memory', 'memory.memsw.usage_in_bytes') ?? usage;
  const swapUsed = Math.min(swapTotal, Math.max(0, memswUsage - usage));
  return { total: limit, usage, stat, swapTotal, swapUsed };
}
