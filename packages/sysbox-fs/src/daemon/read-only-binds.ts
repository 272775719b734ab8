// Which virtual files go into a container read-only. The original bound them as OCI mounts, so
// they were what runc made of them: read-only in a read-only container (its sysbox-fs mounts are
// added to the read-only paths), and read-only where the spec's own read-only paths or mounts cover
// them (Docker's /proc/sys and /sys outside system-container mode). Here they are bound after runc
// is done, over what it left: each takes the read-only flag of the mount it covers, and all of
// them are read-only in a read-only container (unless sysbox-mgr runs --relaxed-read-only, which
// sysbox-runc has already weighed in containerReadOnly).
import { pathWithin, type MountInfo } from '@sysbox/common/mountinfo';

/** The mount a path shows, the deepest mount point at or above it (of stacked ones, the last listed). */
function coveringMount(mounts: readonly MountInfo[], target: string): MountInfo | undefined {
  let found: MountInfo | undefined;
  for (const m of mounts) {
    if (!pathWithin(m.mountPoint, target)) continue;
    if (!found || m.mountPoint.length >= found.mountPoint.length) found = m;
  }
  return found;
}

/** The targets (container paths) to bind read-only, given the container's mounts before any bind. */
export function readOnlyTargets(targets: readonly string[], mounts: readonly MountInfo[], containerReadOnly: boolean): Set<string> {
  if (containerReadOnly) return new Set(targets);
  return new Set(targets.filter((t) => coveringMount(mounts, t)?.options.includes('ro') === true));
}
