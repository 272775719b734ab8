// The container gets its own user namespace mapped onto its exclusive host id range, so root
// inside is an unprivileged id outside. Mappings the spec already has (userns-remap) are kept.
// A container joining another system container's network namespace joins its user namespace too
// (the one owning that network namespace, without which it could not mount a sysfs for it), as the
// containers of a Kubernetes pod do under the original Sysbox; runc then writes no mappings, and
// the spec's (the shared range) only tell it who root is.
import type { Transform } from '../transform.js';

export const userNamespace: Transform = {
  name: 'user-namespace',
  apply(spec, ctx) {
    const linux = spec.linux!;
    const ns = (linux.namespaces ??= []);
    const userns = ns.find((n) => n.type === 'user');
    if (!userns) ns.push(ctx.usernsPath ? { type: 'user', path: ctx.usernsPath } : { type: 'user' });
    else if (ctx.usernsPath && !userns.path) userns.path = ctx.usernsPath;
    if (ctx.preMapped) return;
    linux.uidMappings = [{ containerID: 0, hostID: ctx.uid, size: ctx.size }];
    linux.gidMappings = [{ containerID: 0, hostID: ctx.gid, size: ctx.size }];
  },
};
