// /proc/diskstats: the host's devices, each with the I/O the container's cgroup did on it
// (blkio throttle counters: requests and bytes); devices it never touched are left out, as LXCFS
// does. Timing and in-flight fields have no per-cgroup source here and read 0.
import { readCg, type CgroupPaths } from '../../container/cgroup.js';
import type { VirtualFile } from '../../tree.js';
import { longPageCached, renderFor, type NodeContext } from '../context.js';

export interface DeviceIo {
  reads: number;
  writes: number;
  readBytes: number;
  writeBytes: number;
}

function byDevice(text: string | undefined, into: Map<string, DeviceIo>, field: 'ops' | 'bytes'): void {
  for (const line of (text ?? '').split('\n')) {
    const [dev, op, value] = line.split(' ');
    if (!dev || !/^\d+:\d+$/.test(dev) || (op !== 'Read' && op !== 'Write')) continue;
    const e = into.get(dev) ?? { reads: 0, writes: 0, readBytes: 0, writeBytes: 0 };
    const n = Number(value);
    if (field === 'ops') op === 'Read' ? (e.reads = n) : (e.writes = n);
    else op === 'Read' ? (e.readBytes = n) : (e.writeBytes = n);
    into.set(dev, e);
  }
}

export function cgroupIo(cg: CgroupPaths): Map<string, DeviceIo> {
  const out = new Map<string, DeviceIo>();
  byDevice(readCg(cg, 'blkio', 'blkio.throttle.io_serviced_recursive'), out, 'ops');
  byDevice(readCg(cg, 'blkio', 'blkio.throttle.io_service_bytes_recursive'), out, 'bytes');
  return out;
}

export function renderDiskstats(host: string, io: Map<string, DeviceIo>): string {
  const lines: string[] = [];
  for (const line of host.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const d = io.get(`${f[0]}:${f[1]}`);
    if (!d || d.reads + d.writes === 0) continue;
    const zeros = new Array<number>(f.length - 3).fill(0);
    zeros[0] = d.reads;
    zeros[2] = Math.floor(d.readBytes / 512);
    zeros[4] = d.writes;
    zeros[6] = Math.floor(d.writeBytes / 512);
    lines.push(`${f[0].padStart(4)} ${f[1].padStart(7)} ${f[2]} ${zeros.join(' ')}`);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}

export const diskstats = (ctx: NodeContext): VirtualFile => longPageCached((c) => {
  const view = ctx.callers.resolve(c.pid);
  const cg = view.cgroup;
  if (!cg) return ctx.readHost('/proc/diskstats');
  return renderFor(ctx, view, 'diskstats', () => renderDiskstats(ctx.readHost('/proc/diskstats'), cgroupIo(cg)));
});
