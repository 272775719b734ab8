// Where a process's cgroups are on the host: /proc/PID/cgroup lines matched to the cgroup
// hierarchies in mountinfo. sysbox-mgr delegates these dirs to a container's root; sysbox-fs reads
// a container's limits and usage from them.
import path from 'node:path';
import { mountVisibility, pathWithin, type MountInfo } from './mountinfo.js';

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
 * controllers). Paths are relative to the mount's root, as in a cgroup namespace. `mounts` must be
 * the whole of a mountinfo: only a mount that is visible (not hidden under a later one) and whose
 * root holds the process's cgroup serves. When dockerd runs in a container started with
 * `-v /sys:/sys`, runc's binds of that container's own cgroup (root /docker/ID) are still listed,
 * hidden under the host's /sys/fs/cgroup; taking them gave `/sys/fs/cgroup/<inner id>` (ENOENT).
 * A hierarchy with no such mount is left out.
 */
export function cgroupHierarchies(procCgroup: string, mounts: readonly MountInfo[]): Array<{ controllers: string[]; dir: string }> {
  const out: Array<{ controllers: string[]; dir: string }> = [];
  const visible = mountVisibility(mounts);
  for (const line of parseProcCgroup(procCgroup)) {
    const mount = mounts.find((m) => {
      if (line.controllers.length === 0) {
        if (m.fsType !== 'cgroup2') return false;
      } else {
        if (m.fsType !== 'cgroup') return false;
        const opts = m.superOptions.split(',');
        if (!line.controllers.every((c) => opts.includes(c))) return false;
      }
      return pathWithin(m.root, line.path) && visible(m);
    });
    if (mount) out.push({ controllers: line.controllers, dir: path.join(mount.mountPoint, path.relative(mount.root, line.path)) });
  }
  return out;
}
