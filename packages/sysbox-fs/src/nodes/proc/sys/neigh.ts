// /proc/sys/net/ipv4/neigh: the per-device directories of the caller's own network namespace
// (they come and go with its devices, so nothing here is cached by the kernel), read and written
// from inside that namespace (native setns on the worker thread), plus the `default` directory a
// non-initial network namespace does not have, whose gc_thresh1-3 and gc_interval are emulated
// (virtual-tree.ts). Entries show as owned by the container's root, as the kernel shows its own
// network namespace's entries; the mount's default_permissions keep other users to reading.
import * as native from '@sysbox/native';
import type { PassthroughEntry, PassthroughSource } from '../../../tree.js';

/** Longest value of a neigh entry (all are single numbers) with room to spare. */
const MAX_VALUE = 4096;

/** root: the neigh directory as a path that resolves in whichever network namespace reads it. */
export function neighDevices(root: string): PassthroughSource {
  const at = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  const list = (pid: number, rel: string): PassthroughEntry[] =>
    native.listInNetns(pid, at(rel)).map(([name, isDir]): PassthroughEntry => ({ name, kind: isDir ? 'dir' : 'file', perm: isDir ? 0o555 : 0o644 }));
  return {
    name: 'neigh',
    ttl: 0,
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
