// /proc/sys/net/ipv4/neigh: the per-device directories of the caller's own network namespace
// (they come and go with its devices, so their names are not cached by the kernel, except the
// loopback device's, which every network namespace has, with the same entries), read and written
// from inside that namespace (native setns on the worker thread), plus the `default` directory a
// non-initial network namespace does not have, whose gc_thresh1-3 and gc_interval are emulated
// (virtual-tree.ts). Entries show as owned by the container's root, as the kernel shows its own
// network namespace's entries; the mount's default_permissions keep other users to reading.
import * as native from '@sysbox/native';
import type { PassthroughEntry, PassthroughSource } from '../../../tree.js';

/** Longest value of a neigh entry (all are single numbers) with room to spare. */
const MAX_VALUE = 4096;

/**
 * Whether rel/name is the loopback device's directory or in it. Their names and attributes may be
 * kept by the kernel for neighDevices' loopbackTtl (the host procfs pass-through's ttl): every
 * network namespace has a loopback device named lo, made with the namespace and never removed,
 * with the same neigh entries, so a name cached for one caller is right for every other caller of
 * the inode (nested containers in other network namespaces). Uncached, a `sysctl -a` sent 70
 * LOOKUPs (each listing the directory inside the caller's namespace) and 34 GETATTRs per walk for
 * lo's 17 settings. A loopback device renamed inside a namespace (possible, never done by system
 * software) would still show as lo there for that long, and reads through that name fail (ENOENT).
 */
const isLoopback = (rel: string, name: string): boolean => (rel === '' ? name : rel.split('/')[0]) === 'lo';

/** root: the neigh directory as a path that resolves in whichever network namespace reads it. */
export function neighDevices(root: string, loopbackTtl: number): PassthroughSource {
  const at = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  const list = (pid: number, rel: string): PassthroughEntry[] =>
    native.listInNetns(pid, at(rel)).map(([name, isDir]): PassthroughEntry => ({ name, kind: isDir ? 'dir' : 'file', perm: isDir ? 0o555 : 0o644, ...(isLoopback(rel, name) ? { ttl: loopbackTtl } : {}) }));
  return {
    name: 'neigh',
    ttl: 0,
    // Renderings differ between network namespaces reading one inode: kept-pages.ts keeps a page
    // only while it is the opener's rendering.
    pageCached: true,
    list: (c, rel) => list(c.pid, rel),
    stat(c, rel) {
      const slash = rel.lastIndexOf('/');
      const name = rel.slice(slash + 1);
      try {
        return list(c.pid, slash < 0 ? '' : rel.slice(0, slash)).find((e) => e.name === name);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined; // the device went away
        throw e;
      }
    },
    read: (c, rel) => native.readInNetns(c.pid, at(rel), MAX_VALUE),
    write(c, rel, data) {
      try {
        native.writeInNetns(c.pid, at(rel), data);
        return undefined;
      } catch (e) {
        return (e as { errno?: number }).errno ?? 5;
      }
    },
  };
}
