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
import * as native from '@sysbox/native';
import type { Caller, PassthroughEntry, PassthroughSource } from '../tree.js';

/** What a non-host root may do with an entry of this mode, shown as everyone's permission. */
export function containerPerm(mode: number, isDir: boolean): number {
  const other = mode & (isDir ? 0o5 : 0o4); // a container writes none of these; dirs keep x
  return (other << 6) | (other << 3) | other;
}

const { S_IFMT, S_IFDIR, S_IFLNK } = fs.constants;

function entry(name: string, at: string, st: fs.Stats): PassthroughEntry {
  if (st.isSymbolicLink()) return { name, kind: 'symlink', perm: 0o777, target: fs.readlinkSync(at) };
  return { name, kind: st.isDirectory() ? 'dir' : 'file', perm: containerPerm(st.mode, st.isDirectory()) };
}

/** Directories whose listing a source keeps (per worker): more than /sys/kernel and /proc/sys hold. */
const LISTINGS_KEPT = 4096;

/** A host directory's entries: one native call (an lstatSync per entry was most of a /sys/kernel walk). */
function listHost(dir: string): PassthroughEntry[] {
  const flat = native.listDir(dir);
  const out: PassthroughEntry[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const name = flat[i] as string;
    const mode = flat[i + 1] as number;
    const type = mode & S_IFMT;
    if (type === S_IFLNK) out.push({ name, kind: 'symlink', perm: 0o777, target: (flat[i + 2] as string | null) ?? '' });
    else out.push({ name, kind: type === S_IFDIR ? 'dir' : 'file', perm: containerPerm(mode, type === S_IFDIR) });
  }
  return out;
}

/**
 * root: the directory entries are found under (rel '' is root itself). ttl: seconds the kernel may
 * cache names found here (they change when the host loads a module or adds a device).
 */
export function hostPassthrough(name: string, root: string, ttl: number): PassthroughSource {
  const at = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  const listings = new Map<string, { at: number; entries: readonly PassthroughEntry[] }>();
  return {
    name,
    ttl,
    list(_caller, rel) {
      // A listing is as old as the kernel may keep the names it holds (ttl): a walk of /sys/kernel
      // run again within that time costs no host listing at all.
      const now = performance.now();
      const kept = listings.get(rel);
      if (kept && now - kept.at < ttl * 1000) return kept.entries;
      const entries = listHost(at(rel));
      if (listings.size >= LISTINGS_KEPT) listings.clear();
      listings.set(rel, { at: now, entries });
      return entries;
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
