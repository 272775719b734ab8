// Hands a container's cgroups to its root: the cgroup dirs runc made for the init process (and the
// files a process needs to manage sub-cgroups) are chowned to the container's root host id. With a
// cgroup namespace and writable cgroupfs, an inner Docker or systemd can then create and limit its
// own sub-cgroups, all inside (and bounded by) the container's.
import fs from 'node:fs';
import path from 'node:path';
import { cgroupHierarchies } from '@sysbox/common/cgroup';
import { parseMountInfo, type MountInfo } from './mountinfo.js';

/** Files a delegatee needs to own (cgroup v1 and v2; missing ones are skipped). */
const DELEGATED_FILES = ['cgroup.procs', 'tasks', 'cgroup.subtree_control', 'cgroup.threads'];

/** Host dirs of a process's cgroups, one per hierarchy mounted on this host. */
export function cgroupDirs(procCgroup: string, mounts: MountInfo[]): string[] {
  return cgroupHierarchies(procCgroup, mounts).map((h) => h.dir);
}

export function delegateCgroups(pid: number, uid: number, gid: number): string[] {
  const mounts = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const dirs = cgroupDirs(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'), mounts);
  for (const dir of dirs) {
    fs.chownSync(dir, uid, gid);
    for (const f of DELEGATED_FILES) {
      try {
        fs.chownSync(path.join(dir, f), uid, gid);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
  }
  return dirs;
}
