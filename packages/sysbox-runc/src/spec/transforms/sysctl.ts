// Docker 20.10 sets net.ipv4.ping_group_range to "0 2147483647", which a user namespace rejects
// (gids past its mapping): clamp it to the container's range.
import type { Transform } from '../transform.js';

export const sysctl: Transform = {
  name: 'sysctl',
  apply(spec, ctx) {
    const s = spec.linux!.sysctl;
    const v = s?.['net.ipv4.ping_group_range'];
    if (!s || v === undefined) return;
    const [lo, hi] = v.trim().split(/\s+/).map(Number);
    const max = (ctx.preMapped ? spec.linux!.gidMappings?.[0]?.size ?? 1 : ctx.size) - 1;
    s['net.ipv4.ping_group_range'] = `${Math.min(lo ?? 0, max)} ${Math.min(hi ?? max, max)}`;
  },
};
