// /sys/devices/virtual/dmi/id/product_uuid: a UUID of the container's own, derived from its id
// (stable across restarts of the container and of sysbox-fs), so software that keys machines on
// it (Kubernetes' node uuid, licence checks) sees one machine per container.
import crypto from 'node:crypto';
import { file, type VirtualFile } from '../../tree.js';
import type { NodeContext } from '../context.js';

export function containerUuid(id: string): string {
  const h = crypto.createHash('sha256').update(`sysbox:${id}`).digest('hex');
  // RFC 4122 version 4 / variant 1 layout.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const productUuid = (ctx: NodeContext): VirtualFile => file((c) => {
  const rec = ctx.callers.resolve(c.pid).container;
  return rec ? `${rec.uuid}\n` : ctx.readHost('/sys/devices/virtual/dmi/id/product_uuid');
}, undefined, 0o400);
