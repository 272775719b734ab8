// How the virtual tree is laid over a container's /proc and /sys, in one place: the tree builds
// placeholders from it, and both Register (the container's own /proc) and mount trapping (a procfs
// mounted later inside) bind from it.
//
// /proc/sys as a whole is our directory: host-wide entries pass through as the container's root's
// (nodes/proc/sys/host-sysctls.ts), emulated ones are our files. The entries a namespace of the
// container owns are the kernel's business, so the container's own procfs entries for them are put
// back on top (cloned before /proc/sys is covered). Under them, our files go on top again where
// needed: the emulated net.* files and net/ipv4/neigh (which the container's namespace lacks
// `default` in).

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

/** Virtual directories bound as a whole (tree paths); every other bind source is a file. */
export const PROC_SYS = 'proc/sys';
export const NEIGH = 'proc/sys/net/ipv4/neigh';
export const VIRTUAL_DIRS: readonly string[] = [PROC_SYS, NEIGH];

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
  const dirs = mine.filter((p) => VIRTUAL_DIRS.includes(p) && p !== PROC_SYS);
  const inOriginal = (p: string): boolean => NAMESPACED_SYSCTLS.some((n) => under(p, `${PROC_SYS}/${n}`));
  const out: VirtualBind[] = [];
  if (mine.includes(PROC_SYS)) {
    out.push({ source: PROC_SYS, target: target(PROC_SYS) });
    for (const n of NAMESPACED_SYSCTLS) out.push({ original: true, target: target(`${PROC_SYS}/${n}`) });
  }
  for (const p of mine) {
    if (p === PROC_SYS || dirs.some((d) => under(p, d))) continue;
    // Below /proc/sys only what lands inside a put-back original needs a bind of its own.
    if (under(p, PROC_SYS) && !(mine.includes(PROC_SYS) ? inOriginal(p) : true)) continue;
    out.push({ source: p, target: target(p) });
  }
  return out;
}
