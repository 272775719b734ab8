// The rootfs becomes sysbox-mgr's ID-shifted view, which also sits where the container's
// unprivileged root can reach it (Docker's own path is under a 0710 directory).
import type { Transform } from '../transform.js';

export const shiftedRootfs: Transform = {
  name: 'shifted-rootfs',
  apply(spec, ctx) {
    spec.root!.path = ctx.rootfs;
  },
};
