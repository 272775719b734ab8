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

/**
 * The number on the line that starts with key + sep ("MemTotal" ":" in /proc/meminfo), found
 * without splitting or copying the file.
 */
function lineValue(text: string, key: string, sep: string): number | undefined {
  const prefix = key + sep;
  let at = text.startsWith(prefix) ? 0 : text.indexOf(`\n${prefix}`);
  if (at < 0) return undefined;
  if (at > 0) at += 1;
  return parseInt(text.slice(at + prefix.length), 10);
}

/** memory.stat as key → bytes, parsed once per rendering (meminfo looks up some thirty keys). */
function parseMemoryStat(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0) values.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return values;
}

/** One kB figure of /proc/meminfo ("MemTotal"); 0 if absent. */
export function meminfoKb(text: string, key: string): number {
  return lineValue(text, key, ':') || 0;
}

/** The view for this caller, given the host's /proc/meminfo text. */
export function memoryView(view: CallerView, hostMeminfo: string): MemoryView | undefined {
  const cg = view.cgroup;
  if (!cg) return undefined;
  const host = { memTotal: meminfoKb(hostMeminfo, 'MemTotal') * 1024, swapTotal: meminfoKb(hostMeminfo, 'SwapTotal') * 1024 };
  const limit = cachedLimit(view, 'memory', () => effectiveLimit(cg, 'memory', 'memory.limit_in_bytes'));
  if (limit === undefined || limit >= host.memTotal) return undefined;
  const usage = Math.min(readCgNumber(cg, 'memory', 'memory.usage_in_bytes') ?? 0, limit);
  const values = parseMemoryStat(readCg(cg, 'memory', 'memory.stat') ?? '');
  const stat = (key: string): number => values.get(`total_${key}`) ?? values.get(key) ?? 0;
  // With swap accounting, memsw limit - memory limit is the swap the container may use; never
  // more than the host has (no swap on the host: none in the container).
  const memsw = cachedLimit(view, 'memsw', () => effectiveLimit(cg, 'memory', 'memory.memsw.limit_in_bytes'));
  const swapTotal = memsw === undefined ? 0 : Math.max(0, Math.min(memsw - limit, host.swapTotal));
  const memswUsage = swapTotal > 0 ? readCgNumber(cg, 'memory', 'memory.memsw.usage_in_bytes') ?? usage : usage;
  const swapUsed = Math.min(swapTotal, Math.max(0, memswUsage - usage));
  return { total: limit, usage, stat, swapTotal, swapUsed };
}
