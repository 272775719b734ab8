// Bind mounts (/etc/hosts, /etc/resolv.conf, /etc/hostname, -v volumes and host dirs) are taken
// from sysbox-mgr's ID-mapped clones, so host files show their real owners inside.
import { isBindMount } from '../oci.js';
import type { Transform } from '../transform.js';

export const idmappedBinds: Transform = {
  name: 'idmapped-binds',
  apply(spec, ctx) {
    const binds = (spec.mounts ?? []).filter(isBindMount);
    if (binds.length !== ctx.bindSources.length) {
      throw new Error(`sysbox-mgr prepared ${ctx.bindSources.length} bind sources for ${binds.length} bind mounts`);
    }
    binds.forEach((m, i) => { m.source = ctx.bindSources[i]!; });
  },
};
