// An emulated setting node end to end without a kernel file of its own: kernel.sysrq (which this
// test machine's kernel lacks) and a raise-host capacity, with a fake caller resolution and the
// host's file stood in by a temporary one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CallerResolver, CallerView } from '../src/container/caller.js';
import { EmulatedValues } from '../src/container/emulated-values.js';
import type { LoadTable } from '../src/container/load-table.js';
import type { ContainerRecord } from '../src/container/record.js';
import type { NodeContext } from '../src/nodes/context.js';
import { emulatedSetting } from '../src/nodes/proc/sys/emulated-setting.js';
import { EMULATED_SYSCTLS } from '../src/nodes/proc/sys/settings.js';
import { productUuid } from '../src/nodes/sys/product-uuid.js';
import type { Caller, VirtualFile } from '../src/tree.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-fs-emulated-'));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const record = (id: string): ContainerRecord => ({ id, uid: 100000, gid: 100000, size: 65536, initPid: 1, initStart: 1, pidns: `pid:[${id}]`, slot: 0, uuid: `uuid-of-${id}` });
/** pid 10 is in container a, pid 20 in container b, pid 1 is a host process. */
const views: Record<number, CallerView> = { 10: { container: record('a'), initPid: 1, initStart: 1 }, 20: { container: record('b'), initPid: 1, initStart: 1 }, 1: { initPid: 1, initStart: 1 } };
const hostFiles = new Map<string, string>();
const ctx: NodeContext = {
  callers: { resolve: (pid: number) => views[pid] } as unknown as CallerResolver,
  load: {} as LoadTable,
  stateDir: dir,
  maxStalenessMs: 0,
  readHost: (p) => hostFiles.get(p) ?? fs.readFileSync(p, 'utf8'),
};
const by = (pid: number): Caller => ({ pid, uid: 0, gid: 0 });
const read = (f: VirtualFile, pid: number): string => String(f.read(by(pid)));
const write = (f: VirtualFile, pid: number, v: string): void | number => f.write!(by(pid), Buffer.from(v));

describe('an emulated setting', () => {
  const values = new EmulatedValues(dir);

  it('kernel.sysrq: the host\'s value until the container writes one of its own; others unaffected', () => {
    hostFiles.set('/proc/sys/kernel/sysrq', '176\n');
    const sysrq = emulatedSetting(ctx, values, '/proc/sys/kernel/sysrq', 'sysctl.kernel.sysrq', EMULATED_SYSCTLS['kernel/sysrq']);
    assert.equal(read(sysrq, 10), '176\n');
    assert.equal(write(sysrq, 10, '1\n'), undefined);
    assert.equal(read(sysrq, 10).trim(), '1');
    assert.equal(read(sysrq, 20), '176\n', 'another container sees the host value');
    assert.equal(write(sysrq, 10, 'x\n'), 22, 'EINVAL');
    assert.equal(read(sysrq, 10).trim(), '1');
    assert.equal(write(sysrq, 1, '0\n'), 1, 'a host process is refused (EPERM): it has the real file');
    assert.equal(hostFiles.get('/proc/sys/kernel/sysrq'), '176\n');
  });

  it('a raise-host capacity (gc_thresh3) raises the host file when larger, never lowers it', () => {
    const hostFile = path.join(dir, 'gc_thresh3');
    fs.writeFileSync(hostFile, '1024\n');
    const gc = emulatedSetting(ctx, values, hostFile, 'sysctl.net.ipv4.neigh.default.gc_thresh3', EMULATED_SYSCTLS['net/ipv4/neigh/default/gc_thresh3']);
    assert.equal(write(gc, 10, '512\n'), undefined);
    assert.equal(fs.readFileSync(hostFile, 'utf8'), '1024\n', 'not lowered');
    assert.equal(read(gc, 10).trim(), '512');
    assert.equal(write(gc, 20, '4096\n'), undefined);
    assert.equal(fs.readFileSync(hostFile, 'utf8').trim(), '4096', 'raised');
    assert.equal(write(gc, 20, '-1\n'), 22);
  });

  it('a failed host write fails the container\'s write, unless --ignore-handler-errors', () => {
    // The host file cannot be written (no such directory); its value reads as 100.
    const hostFile = path.join(dir, 'missing', 'hashsize');
    hostFiles.set(hostFile, '100\n');
    const strict = emulatedSetting(ctx, values, hostFile, 'module.nf_conntrack.parameters.hashsize', EMULATED_SYSCTLS['net/netfilter/nf_conntrack_max']);
    assert.throws(() => write(strict, 10, '200\n'), { code: 'ENOENT' });
    assert.equal(read(strict, 10), '100\n', 'nothing stored');
    const lenient = emulatedSetting({ ...ctx, ignoreHandlerErrors: true }, values, hostFile, 'module.nf_conntrack.parameters.hashsize', EMULATED_SYSCTLS['net/netfilter/nf_conntrack_max']);
    assert.equal(write(lenient, 10, '200\n'), undefined);
    assert.equal(read(lenient, 10).trim(), '200', 'the container keeps its value');
  });
});

describe('product_uuid', () => {
  it('is the container\'s own; the host\'s for a host process', () => {
    hostFiles.set('/sys/devices/virtual/dmi/id/product_uuid', 'host-uuid\n');
    const node = productUuid(ctx);
    assert.equal(read(node, 10), 'uuid-of-a\n');
    assert.equal(read(node, 20), 'uuid-of-b\n');
    assert.equal(read(node, 1), 'host-uuid\n');
    assert.equal(node.perm, 0o400);
  });
});
