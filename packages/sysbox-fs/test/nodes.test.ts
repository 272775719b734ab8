// The virtual /proc renderers, as pure functions of host text and cgroup figures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCpuList } from '../src/container/cgroup.js';
import { meminfoKb } from '../src/container/memory-view.js';
import { renderFor } from '../src/nodes/context.js';
import { renderCpuinfo } from '../src/nodes/proc/cpuinfo.js';
import { renderDiskstats } from '../src/nodes/proc/diskstats.js';
import { renderLoadavg } from '../src/nodes/proc/loadavg.js';
import { renderMeminfo } from '../src/nodes/proc/meminfo.js';
import { renderStat } from '../src/nodes/proc/stat.js';
import { renderSwaps } from '../src/nodes/proc/swaps.js';
import { renderUptime } from '../src/nodes/proc/uptime.js';
import { containerUuid } from '../src/nodes/sys/product-uuid.js';

const HOST_MEMINFO = 'MemTotal:       24684084 kB\nMemFree:        24061900 kB\nMemAvailable:   24127288 kB\nBuffers:           12345 kB\nCached:           500000 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\nSlab:             269996 kB\n';

describe('virtual /proc renderers', () => {
  it('uptime: since the container init started; idle keeps the host ratio over its CPUs', () => {
    // Host up 1000 s with 2 CPUs, half idle; init started at 990 s (99000 ticks); 1 CPU visible.
    assert.equal(renderUptime('1000.00 1000.00\n', 99000, 1, 2), '10.00 5.00\n');
    assert.equal(renderUptime('5.00 0.00\n', 1000, 1, 1), '0.00 0.00\n', 'never negative');
  });

  it('meminfo: the limit is MemTotal, usage and memory.stat fill the rest, other lines pass through', () => {
    const figures = new Map([['cache', 4096 * 100], ['active_file', 4096 * 60], ['inactive_file', 4096 * 40], ['rss', 4096 * 10], ['shmem', 0]]);
    const stat = (k: string): number => figures.get(k) ?? 0;
    const text = renderMeminfo(HOST_MEMINFO, { total: 256 << 20, usage: 64 << 20, stat, swapTotal: 0, swapUsed: 0 });
    const out = { get: (k: string): number => meminfoKb(text, k) };
    assert.equal(out.get('MemTotal'), 262144);
    assert.equal(out.get('MemFree'), 196608);
    assert.equal(out.get('MemAvailable'), 196608 + 400);
    assert.equal(out.get('Cached'), 400);
    assert.equal(out.get('Buffers'), 0);
    assert.equal(out.get('Slab'), 269996, 'no cgroup counterpart: the host line');
    assert.match(renderMeminfo(HOST_MEMINFO, { total: 1 << 20, usage: 0, stat, swapTotal: 0, swapUsed: 0 }), /^MemTotal:\s+1024 kB$/m);
  });

  it('swaps: a virtual line with the container\'s swap, or the header alone', () => {
    assert.equal(renderSwaps(0, 0).split('\n').filter((l) => l !== '').length, 1);
    assert.match(renderSwaps(1024, 12), /^none\s+virtual\s+1024\s+12\s+0$/m);
  });

  it('cpuinfo: the visible CPUs\' blocks, renumbered from 0', () => {
    const host = [0, 1, 2, 3].map((i) => `processor\t: ${i}\nmodel name\t: cpu${i}\n`).join('\n') + '\n';
    const out = renderCpuinfo(host, [1, 3]);
    assert.deepEqual([...out.matchAll(/^processor\t: (\d+)/gm)].map((m) => m[1]), ['0', '1']);
    assert.deepEqual([...out.matchAll(/^model name\t: (\w+)/gm)].map((m) => m[1]), ['cpu1', 'cpu3']);
    assert.deepEqual(parseCpuList('0-2,5'), [0, 1, 2, 5]);
  });

  it('stat: the container\'s own user/system time per visible CPU, idle the rest; other lines kept', () => {
    const host = 'cpu  300 0 300 1400 0 0 0 0 0 0\ncpu0 100 0 100 800 0 0 0 0 0 0\ncpu1 200 0 200 600 0 0 0 0 0 0\nintr 5\nctxt 7\nbtime 1700000000\n';
    const out = renderStat(host, [1], { user: [0, 50], system: [0, 25] }).split('\n');
    assert.equal(out[0], 'cpu  50 0 25 925 0 0 0 0 0 0');
    assert.equal(out[1], 'cpu0 50 0 25 925 0 0 0 0 0 0');
    assert.deepEqual(out.slice(2, 5), ['intr 5', 'ctxt 7', 'btime 1700000000']);
  });

  it('loadavg and diskstats', () => {
    assert.equal(renderLoadavg({ load1: 0.5, load5: 0.25, load15: 0.125, running: 1, total: 7, lastPid: 42 }), '0.50 0.25 0.13 1/7 42\n');
    const host = '   8       0 sda 9 9 9 9 9 9 9 9 9 9 9\n   8       1 sda1 9 9 9 9 9 9 9 9 9 9 9\n';
    const out = renderDiskstats(host, new Map([['8:0', { reads: 3, writes: 4, readBytes: 1024, writeBytes: 2048 }]]));
    assert.equal(out, '   8       0 sda 3 0 2 0 4 0 4 0 0 0 0\n', 'only devices it used, with its own counters');
  });

  it('product_uuid: a stable RFC 4122 v4 UUID per container id', () => {
    const a = containerUuid('abc');
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(containerUuid('abc'), a);
    assert.notEqual(containerUuid('abd'), a);
  });
});

describe('renderFor', () => {
  it('renders at most once per maxStalenessMs for a view, every time with 0', async () => {
    const view = { initPid: 5, initStart: 0 };
    let renders = 0;
    const render = (): string => `${++renders}`;
    const ctx = { maxStalenessMs: 30 } as Parameters<typeof renderFor>[0];
    assert.equal(renderFor(ctx, view, 'k', render), '1');
    assert.equal(renderFor(ctx, view, 'k', render), '1', 'within the period: the same rendering');
    assert.equal(renderFor(ctx, view, 'other', render), '2', 'per file');
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(renderFor(ctx, view, 'k', render), '3', 'after the period: rendered again');
    const fresh = { ...ctx, maxStalenessMs: 0 };
    assert.equal(renderFor(fresh, view, 'k', render), '4');
    assert.equal(renderFor(fresh, view, 'k', render), '5');
  });
});
