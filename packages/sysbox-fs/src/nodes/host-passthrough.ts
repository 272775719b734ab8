// Host directories no namespace owns, shown to containers as they are: /proc/sys's host-wide
// entries (kernel.*, vm.*, fs.*, ...), /sys/kernel and /sys/devices/virtual. Their values are the
// same from every namespace, so they are read from the daemon's own (host) view. They show as
// owned by the container's root, with the permissions a non-host root gets from the kernel (the
// "other" bits: readable where the host lets everyone read, never writable), so what `ls -l` says
// is what the container can do. Read through a procfs or sysfs of our own that is attached
// nowhere, so nothing the host mounted below (binfmt_misc, debugfs, an automount trigger) is
// listed or crossed. What a namespace owns never comes here: the container's own entries are put
// back over those (mount-layout.ts).
import fs from 'node:fs';
import type { Caller, PassthroughEntry, PassthroughSource } from '../tree.js';

/** What a non-host root may do with an entry of this mode, shown as everyone's permission. */
export function containerPerm(mode: number, isDir: boolean): number {
  const other = mode & (isDir ? 0o5 : 0o4); // a container writes none of these; dirs keep x
  return (other << 6) | (other << 3) | other;
}

function entry(name: string, at: string, st: fs.Stats): PassthroughEntry {
  if (st.isSymbolicLink()) return { name, kind: 'symlink', perm: 0o777, target: fs.readlinkSync(at) };
  return { name, kind: st.isDirectory() ? 'dir' : 'file', perm: containerPerm(st.mode, st.isDirectory()) };
}

/**
 * root: the directory entries are found under (rel '' is root itself). ttl: seconds the kernel may
 * cache names found here (they change when the host loads a module or adds a device).
 */
export function hostPassthrough(name: string, root: string, ttl: number): PassthroughSource {
  const at = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  return {
    name,
    ttl,
    list(_caller, rel) {
      const out: PassthroughEntry[] = [];
      for (const n of fs.readdirSync(at(rel))) {
        const p = `${at(rel)}/${n}`;
        try {
          out.push(entry(n, p, fs.lstatSync(p)));
        } catch { /* gone meanwhile */ }
      }
      return out;
    },
    stat(_caller, rel) {
      try {
        return entry(rel.slice(rel.lastIndexOf('/') + 1), at(rel), fs.lstatSync(at(rel)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    read: (_caller, rel) => fs.readFileSync(at(rel)),
  };
}

const ENOENT = 2;

/** source without the entries at rels (none of them listed, looked up or read). */
export function withoutEntries(source: PassthroughSource, rels: readonly string[]): PassthroughSource {
  const join = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);
  const isHidden = (rel: string): boolean => rels.some((h) => rel === h || rel.startsWith(`${h}/`));
  return {
    name: source.name,
    ttl: source.ttl,
    list: (caller, rel) => source.list(caller, rel).filter((e) => !isHidden(join(rel, e.name))),
    stat: (caller, rel) => (isHidden(rel) ? undefined : source.stat(caller, rel)),
    read: (caller, rel) => {
      if (isHidden(rel)) throw Object.assign(new Error(`${rel}: hidden`), { code: 'ENOENT', errno: -ENOENT });
      return source.read(caller, rel);
    },
    ...(source.write ? { write: (caller: Caller, rel: string, data: Buffer) => (isHidden(rel) ? ENOENT : source.write!(caller, rel, data)) } : {}),
  };
}
