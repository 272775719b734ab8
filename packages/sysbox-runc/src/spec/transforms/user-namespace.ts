// The container gets its own user namespace mapped onto its exclusive host id range, so root
// inside is an unprivileged id outside. Mappings the spec already has (userns-remap) are kept.
import type { Transform } from '../transform.js';

export const userNamespace: Transform = {
  name: 'user-namespace',
  apply(spec, ctx) {
    const linux = spec.linux!;
    const ns = (linux.namespaces ??= []);
    if (!ns.some((n) => n.type === 'user')) ns.push({ type: 'user' });
    if (ctx.preMapped) return;
    linux.uidMappings = [{ containerID: 0, hostID: ctx.uid, size: ctx.size }];
    linux.gidMappings = [{ containerID: 0, hostID: ctx.gid, size: ctx.size }];
  },
};
