// The CPUs a container sees: its cpuset (intersected with the CPUs online), cut down to
// ceil(quota/period) when a CFS quota allows fewer (LXCFS's cpu view). Host CPU numbers, in order.
import fs from 'node:fs';
import type { CallerView } from './caller.js';
import { effectiveLimit, parseCpuList, readCg, readCgNumber } from './cgroup.js';

let online: number[] | undefined;

export function hostCpus(): number[] {
  online ??= parseCpuList(fs.readFileSync('/sys/devices/system/cpu/online', 'utf8'));
  return online;
}

export function visibleCpus(view: CallerView): number[] {
  const all = hostCpus();
  if (!view.cgroup) return all;
  const set = readCg(view.cgroup, 'cpuset', 'cpuset.effective_cpus') ?? readCg(view.cgroup, 'cpuset', 'cpuset.cpus');
  let cpus = set ? parseCpuList(set).filter((c) => all.includes(c)) : all;
  if (cpus.length === 0) cpus = all;
  const quota = effectiveLimit(view.cgroup, 'cpu', 'cpu.cfs_quota_us');
  const period = readCgNumber(view.cgroup, 'cpu', 'cpu.cfs_period_us');
  if (quota !== undefined && quota > 0 && period) {
    cpus = cpus.slice(0, Math.max(1, Math.min(cpus.length, Math.ceil(quota / period))));
  }
  return cpus;
}
