// The /proc/sys entries emulated per container: host-wide (not namespaced) settings that system
// software inside writes at boot. Namespaced ones (net.core.somaxconn, net.unix.max_dgram_qlen,
// the nf_conntrack timeouts, and kernel.pid_max since Linux 6.14) are the container's own already
// and pass through untouched. net.ipv4.neigh.default.* live in a `default` directory a container's
// network namespace does not have: they are served inside our net/ipv4/neigh (neigh.ts).
import { INT_MAX, INT_MIN, UINT_MAX, intRule, printkRule, type SettingRule } from './rules.js';

export const EMULATED_SYSCTLS: Readonly<Record<string, SettingRule>> = {
  'kernel/panic': intRule(INT_MIN, INT_MAX),
  'kernel/panic_on_oops': intRule(0, 1),
  'kernel/printk': printkRule,
  'kernel/kptr_restrict': intRule(0, 2),
  'kernel/dmesg_restrict': intRule(0, 1),
  'kernel/sysrq': intRule(INT_MIN, INT_MAX),
  'vm/overcommit_memory': intRule(0, 2),
  'vm/mmap_min_addr': intRule(0, Number.MAX_SAFE_INTEGER),
  'net/netfilter/nf_conntrack_max': intRule(0, INT_MAX, 'raise-host'),
  // The neighbour table's limits are the table's, shared by every namespace: raising them is how a
  // container gets room for more entries; it is never lowered. gc_interval only paces the host's GC.
  'net/ipv4/neigh/default/gc_thresh1': intRule(0, INT_MAX, 'raise-host'),
  'net/ipv4/neigh/default/gc_thresh2': intRule(0, INT_MAX, 'raise-host'),
  'net/ipv4/neigh/default/gc_thresh3': intRule(0, INT_MAX, 'raise-host'),
  'net/ipv4/neigh/default/gc_interval': intRule(0, Math.floor(INT_MAX / 1000)),
};

/** /sys/module parameters emulated the same way. */
export const EMULATED_MODULE_PARAMS: Readonly<Record<string, SettingRule>> = {
  'nf_conntrack/parameters/hashsize': intRule(1, UINT_MAX, 'raise-host'),
};
