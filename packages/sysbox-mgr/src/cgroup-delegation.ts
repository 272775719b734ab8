// Hands a container's cgroups to its root: the cgroup dirs runc made for the init process (and the
// files a process needs to manage sub-cgroups) are chowned to the container's root host id. With a
// cgroup namespace and writable cgroupfs, an inner Docker or systemd can then create and limit its
// own sub-cgroups, all inside (and bounded by) the container's.
import fs from 'node:fs';
import path from 'node:path';
import { parseMountInfo, type MountInfo } from './mountinfo.js';

/** Files a delegatee needs to own (cgroup v1 and v2; missing ones are skipped). */
const DELEGATED_FILES = ['cgroup.procs', 'tasks', 'cgroup.subtree_control', 'cgroup.threads'];

interface CgroupLine { controllers: string[]; path: string }

export function parseProcCgroup(text: string): CgroupLine[] {
  return text.split('\n').filter(Boolean).map((l) => {
    const first = l.indexOf(':');
    const second = l.indexOf(':', first + 1);
    const ctl = l.slice(first + 1, second);
    return { controllers: ctl === '' ? [] : ctl.split(','), path: l.slice(second + 1) };
  });
}

/** Host dirs of a process's cgroups, one per hierarchy mounted on this host. */
export function cgroupDirs(procCgroup: string, mounts: MountInfo[]): string[] {
  const dirs: string[] = [];
  for (const line of parseProcCgroup(procCgroup)) {
    const mount = mounts.find((m) => {
      if (line.controllers.length === 0) return m.fsType === 'cgroup2';
      if (m.fsType !== 'cgroup') return false;
      const opts = m.superOptions.split(',');
      return line.controllers.every((c) => opts.includes(c));
    });
    if (mount) dirs.push(path.join(mount.mountPoint, path.relative(mount.root, line.path)));
  }
  return dirs;
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
