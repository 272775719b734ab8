// The CPUs a container sees: its cpuset (intersected with the CPUs online), cut down to
// ceil(quota/period) when a CFS quota allows fewer (LXCFS's cpu view). Host CPU numbers, in order.
import fs from 'node:fs';
import type { CallerView } from './caller.js';
import { effectiveLimit, parseCpuList, readCg, readCgNumber, type CgroupPaths } from './cgroup.js';
import { cachedLimit } from './limits-cache.js';

let online: number[] | undefined;

export function hostCpus(): number[] {
  online ??= parseCpuList(fs.readFileSync('/sys/devices/system/cpu/online', 'utf8'));
  return online;
}

export function visibleCpus(view: CallerView): number[] {
  const all = hostCpus();
  const cg = view.cgroup;
  if (!cg) return all;
  return cachedLimit(view, 'cpus', () => cpusOf(cg, all));
}

function cpusOf(cg: CgroupPaths, all: number[]): number[] {
  const set = readCg(cg, 'cpuset', 'cpuset.effective_cpus') ?? readCg(cg, 'cpuset', 'cpuset.cpus');
  let cpus = set ? parseCpuList(set).filter((c) => all.includes(c)) : all;
  if (cpus.length === 0) cpus = all;
  const quota = effectiveLimit(cg, 'cpu', 'cpu.cfs_quota_us');
  const period = readCgNumber(cg, 'cpu', 'cpu.cfs_period_us');
  if (quota !== undefined && quota > 0 && period) {
    cpus = cpus.slice(0, Math.max(1, Math.min(cpus.length, Math.ceil(quota / period))));
  }
  return cpus;
}
