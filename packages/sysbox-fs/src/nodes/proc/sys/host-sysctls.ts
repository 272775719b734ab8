// /proc/sys as the host has it, for the entries no namespace owns (kernel.*, vm.*, fs.*, ...):
// the same values in every namespace, so read from the daemon's own (host) view. They show as owned
// by the container's root, with the permissions a non-host root gets from the kernel (the "other"
// bits: readable where the host lets everyone read, never writable), so what `ls -l` says is what
// the container can do. Read through a procfs of our own that is attached nowhere, so nothing the
// host mounted below its /proc/sys (binfmt_misc, an automount trigger) is listed or crossed.
// The namespaced entries (net, user, ipc, uts, pid) never come here: the container's own procfs
// entries are put back over them (proc-sys-layout.ts).
import fs from 'node:fs';
import type { PassthroughEntry, PassthroughSource } from '../../../tree.js';

/** Seconds the kernel may cache these names: new ones appear only when the host loads a module. */
const HOST_SYSCTL_TTL = 10;

/** What a non-host root may do with an entry of this mode, shown as everyone's permission. */
export function containerPerm(mode: number, isDir: boolean): number {
  const other = mode & (isDir ? 0o5 : 0o4); // a container writes none of these; dirs keep x
  return (other << 6) | (other << 3) | other;
}

function entry(name: string, st: fs.Stats): PassthroughEntry {
  return { name, isDir: st.isDirectory(), perm: containerPerm(st.mode, st.isDirectory()) };
}

/** root: the directory these entries are found under (a private procfs's sys). */
export function hostSysctls(root: string): PassthroughSource {
  const at = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  return {
    name: 'host-sysctl',
    ttl: HOST_SYSCTL_TTL,
    list(_caller, rel) {
      const out: PassthroughEntry[] = [];
      for (const name of fs.readdirSync(at(rel))) {
        try {
          out.push(entry(name, fs.lstatSync(`${at(rel)}/${name}`)));
        } catch { /* gone meanwhile */ }
      }
      return out;
    },
    stat(_caller, rel) {
      try {
        return entry(rel.slice(rel.lastIndexOf('/') + 1), fs.lstatSync(at(rel)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    read: (_caller, rel) => fs.readFileSync(at(rel)),
  };
}
