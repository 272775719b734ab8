// How the virtual tree is laid over a container's /proc and /sys, in one place: the tree builds
// placeholders from it, and both Register (the container's own /proc and /sys) and mount trapping
// (a procfs or sysfs mounted later inside) bind from it.
//
// A covered directory (/proc/sys, /sys/kernel, /sys/devices/virtual) is ours as a whole: host-wide
// entries pass through as the container root's (nodes/host-passthrough.ts), emulated and other
// virtual files are ours. The entries a namespace of the container owns are the kernel's
// business, so the container's own entries for them are put back on top (cloned before the
// directory is covered). Under them, our files go on top again where needed: the emulated net.*
// files and net/ipv4/neigh (which the container's namespace lacks `default` in).

/**
 * Below /proc/sys, what a namespace of the container owns. Found by listing /proc/sys in a user
 * namespace with new net, ipc, uts, pid, cgroup and time namespaces, and taking what shows as owned
 * by the namespace's root, plus what is namespaced without saying so (uts: hostname, domainname;
 * pid: ns_last_pid; user: user.*). Each is put back only if the container's procfs has it.
 */
export const NAMESPACED_SYSCTLS: readonly string[] = [
  'net',
  'user',
  'fs/mqueue',
  'kernel/hostname',
  'kernel/domainname',
  'kernel/ns_last_pid',
  'kernel/pid_max',
  'kernel/auto_msgmni',
  'kernel/msg_next_id',
  'kernel/msgmax',
  'kernel/msgmnb',
  'kernel/msgmni',
  'kernel/sem',
  'kernel/sem_next_id',
  'kernel/shm_next_id',
  'kernel/shm_rmid_forced',
  'kernel/shmall',
  'kernel/shmmax',
  'kernel/shmmni',
];

export interface CoveredDir {
  /** Tree path of the directory ("proc/sys"), also its path in a container minus the "/". */
  dir: string;
  /** Which host view its entries pass through from. */
  host: 'procfs' | 'sysfs';
  /** Below dir, the container's own entries put back on top. */
  originals: readonly string[];
  /** Covered only on hosts that lack this tree path (the reason to cover it is to add it). */
  onlyWithout?: string;
}

export const COVERED: readonly CoveredDir[] = [
  { dir: 'proc/sys', host: 'procfs', originals: NAMESPACED_SYSCTLS },
  { dir: 'sys/kernel', host: 'sysfs', originals: [] },
  // The network devices are the network namespace's (sysfs tags them per namespace).
  { dir: 'sys/devices/virtual', host: 'sysfs', originals: ['net'] },
  // Only to add class/dmi (a link to devices/virtual/dmi/id, which is ours) where the host has no
  // DMI; class/net is the network namespace's, like devices/virtual/net.
  { dir: 'sys/class', host: 'sysfs', originals: ['net'], onlyWithout: 'sys/class/dmi' },
];

/**
 * Host entries of covered directories a container does not see. The mount points of debugfs,
 * tracefs and configfs: a user namespace may not mount these, so when they show, systemd's
 * sys-kernel-{debug,tracing,config}.mount (ConditionPathExists= on each) try and fail, and a stock
 * systemd image ends `degraded`. Absent, the units are skipped, as on a kernel without them.
 */
export const HIDDEN: readonly string[] = ['sys/kernel/debug', 'sys/kernel/tracing', 'sys/kernel/config'];

export const NEIGH = 'proc/sys/net/ipv4/neigh';

/** Virtual directories bound as a whole (tree paths); every other bind source is a file. */
export const VIRTUAL_DIRS: readonly string[] = [...COVERED.map((c) => c.dir), NEIGH];

export type VirtualBind =
  /** The virtual file or directory at source (a tree path, below a slot) goes onto target. */
  | { source: string; target: string }
  /** What target is in the container's own fs before any bind, put back on top. */
  | { original: true; target: string };

const under = (p: string, dir: string): boolean => p.startsWith(`${dir}/`);

/** The same binds with sources in slot's copy of the tree (slotted-tree.ts). */
export const inSlot = (binds: readonly VirtualBind[], slot: number): VirtualBind[] =>
  binds.map((b) => ('source' in b ? { source: `${slot}/${b.source}`, target: b.target } : b));

/**
 * The binds, in order, that lay the tree's paths (those the host has) over a procfs or sysfs. target
 * maps a tree path ("proc/sys/net") to where it is bound ("/proc/sys/net", or "sys/net" inside a
 * new procfs).
 */
export function virtualBinds(paths: readonly string[], fs: 'proc' | 'sys', target: (treePath: string) => string): VirtualBind[] {
  const mine = paths.filter((p) => under(p, fs));
  const covered = COVERED.filter((c) => mine.includes(c.dir));
  const others = mine.filter((p) => VIRTUAL_DIRS.includes(p) && !covered.some((c) => c.dir === p));
  const out: VirtualBind[] = [];
  for (const c of covered) {
    out.push({ source: c.dir, target: target(c.dir) });
    for (const o of c.originals) out.push({ original: true, target: target(`${c.dir}/${o}`) });
  }
  for (const p of mine) {
    if (covered.some((c) => c.dir === p) || others.some((d) => under(p, d))) continue;
    // Inside a covered directory only what lands inside a put-back original needs a bind of its own.
    const c = covered.find((d) => under(p, d.dir));
    if (c && !c.originals.some((o) => under(p, `${c.dir}/${o}`))) continue;
    out.push({ source: p, target: target(p) });
  }
  return out;
}
