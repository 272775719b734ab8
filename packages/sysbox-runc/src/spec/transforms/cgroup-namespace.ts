// A cgroup namespace hides the host's cgroup paths from the container (and from an inner Docker).
import type { Transform } from '../transform.js';

export const cgroupNamespace: Transform = {
  name: 'cgroup-namespace',
  apply(spec) {
    const ns = (spec.linux!.namespaces ??= []);
    if (!ns.some((n) => n.type === 'cgroup')) ns.push({ type: 'cgroup' });
  },
};
