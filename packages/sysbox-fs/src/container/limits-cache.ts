// Cgroup limits change rarely (docker update) but cost several file reads each (a limit is the
// smallest up the hierarchy), and every read of a virtual file needs some. They are kept on the
// caller's view for a second; usage figures are never cached.
import type { CallerView } from './caller.js';

const TTL_MS = 1000;

export function cachedLimit<T>(view: CallerView, key: string, compute: () => T): T {
  const now = performance.now();
  if (!view.limits || now - view.limits.readAt > TTL_MS) view.limits = { readAt: now, values: new Map() };
  const values = view.limits.values;
  if (values.has(key)) return values.get(key) as T;
  const v = compute();
  values.set(key, v);
  return v;
}
