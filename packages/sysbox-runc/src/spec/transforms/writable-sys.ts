// /sys and /sys/fs/cgroup are mounted read-write. In the container's user namespace sysfs stays
// read-only where the host's root owns it; what becomes writable is the container's own: its
// network namespace's entries and the cgroups sysbox-mgr delegates to its root, which an inner
// Docker or systemd needs to create sub-cgroups. A read-only container keeps them read-only
// unless sysbox-mgr runs with --relaxed-read-only.
import type { Transform } from '../transform.js';
import { keepAddedReadOnly } from './read-only.js';

const WRITABLE = new Set(['/sys', '/sys/fs/cgroup']);

export const writableSys: Transform = {
  name: 'writable-sys',
  apply(spec, ctx) {
    if (keepAddedReadOnly(spec, ctx.config)) return;
    for (const m of spec.mounts ?? []) {
      if (WRITABLE.has(m.destination) && m.options) m.options = m.options.filter((o) => o !== 'ro');
    }
  },
};
