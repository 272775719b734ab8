// Where a process's cgroups are on the host: /proc/PID/cgroup lines matched to the cgroup
// hierarchies in mountinfo. sysbox-mgr delegates these dirs to a container's root; sysbox-fs reads
// a container's limits and usage from them.
import path from 'node:path';
import type { MountInfo } from './mountinfo.js';

export interface CgroupLine { controllers: string[]; path: string }

export function parseProcCgroup(text: string): CgroupLine[] {
  return text.split('\n').filter(Boolean).map((l) => {
    const first = l.indexOf(':');
    const second = l.indexOf(':', first + 1);
    const ctl = l.slice(first + 1, second);
    return { controllers: ctl === '' ? [] : ctl.split(','), path: l.slice(second + 1) };
  });
}

/**
 * Each hierarchy of the process that is mounted here, with its host dir (the cgroup2 line has no
 * controllers). Paths are relative to the mount's root, as in a cgroup namespace.
 */
export function cgroupHierarchies(procCgroup: string, mounts: readonly MountInfo[]): Array<{ controllers: string[]; dir: string }> {
  const out: Array<{ controllers: string[]; dir: string }> = [];
  for (const line of parseProcCgroup(procCgroup)) {
    const mount = mounts.find((m) => {
      if (line.controllers.length === 0) return m.fsType === 'cgroup2';
      if (m.fsType !== 'cgroup') return false;
      const opts = m.superOptions.split(',');
      return line.controllers.every((c) => opts.includes(c));
    });
    if (mount) out.push({ controllers: line.controllers, dir: path.join(mount.mountPoint, path.relative(mount.root, line.path)) });
  }
  return out;
}
