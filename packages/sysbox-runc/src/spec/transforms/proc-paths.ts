// /proc/sys stays writable: its namespaced entries (net.*, kernel.hostname ...) belong to the
// container, and the host-wide ones are owned by the host's root, which the container's root is
// not. The other masked and read-only paths are kept.
import type { Transform } from '../transform.js';

export const procPaths: Transform = {
  name: 'proc-paths',
  apply(spec) {
    const linux = spec.linux!;
    if (linux.readonlyPaths) linux.readonlyPaths = linux.readonlyPaths.filter((p) => p !== '/proc/sys');
  },
};
