// A cgroupfs at /sys/fs/cgroup when the spec has none. Docker's and CRI's specs mount one, but
// containerd's own default spec (`ctr run`) does not: without it an inner Docker or systemd finds
// no cgroup hierarchy ("no cgroup mount found in mountinfo"). The original Sysbox adds it too.
// Added read-only, as Docker's is: writable-sys, next in the list, decides whether it may be written.
import type { Transform } from '../transform.js';

const CGROUP_DIR = '/sys/fs/cgroup';

export const cgroupMount: Transform = {
  name: 'cgroup-mount',
  apply(spec) {
    const mounts = (spec.mounts ??= []);
    if (mounts.some((m) => m.destination.replace(/\/+$/, '') === CGROUP_DIR)) return;
    const mount = { destination: CGROUP_DIR, type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev', 'relatime'] };
    // Right after the sysfs it is mounted on; a spec without one gets none (nothing to put it on).
    const sys = mounts.findIndex((m) => m.destination.replace(/\/+$/, '') === '/sys');
    if (sys >= 0) mounts.splice(sys + 1, 0, mount);
  },
};
