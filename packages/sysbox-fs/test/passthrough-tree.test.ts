// Pass-through directories: entries found per request from a source, with inode numbers every
// worker derives alike, carried through the per-slot copies and the dispatcher.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { dispatch, type DispatchOptions, type Listing } from '../src/fuse/dispatch.js';
import { RenderCache } from '../src/fuse/render-cache.js';
import * as p from '../src/fuse/protocol.js';
import { containerPerm, hostPassthrough } from '../src/nodes/host-passthrough.js';
import { SlottedTree } from '../src/slotted-tree.js';
import { dir, file, hashLow, passthroughIno, ROOT_INODE, staticIno, StaticTree, type Caller, type PassthroughEntry, type PassthroughSource } from '../src/tree.js';

/** A source over an in-memory tree: a string is a file's content, an object a directory. */
type Fake = { [name: string]: string | Fake };
function fakeSource(root: Fake, ttl = 0): PassthroughSource & { writes: string[]; lists: number } {
  const at = (rel: string): string | Fake | undefined => rel.split('/').filter(Boolean).reduce<string | Fake | undefined>((n, part) => (typeof n === 'object' ? n[part] : undefined), root);
  const entryOf = (name: string, n: string | Fake): PassthroughEntry =>
    typeof n === 'string' && n.startsWith('->') ? { name, kind: 'symlink', perm: 0o777, target: n.slice(2) } : { name, kind: typeof n === 'object' ? 'dir' : 'file', perm: typeof n === 'object' ? 0o555 : 0o644 };
  const src = {
    name: 'fake',
    ttl,
    writes: [] as string[],
    lists: 0,
    list(_c: Caller, rel: string): PassthroughEntry[] {
      src.lists++;
      const d = at(rel);
      if (typeof d !== 'object') throw Object.assign(new Error('not a dir'), { errno: 20 });
      return Object.entries(d).map(([n, v]) => entryOf(n, v));
    },
    stat(_c: Caller, rel: string): PassthroughEntry | undefined {
      const n = at(rel);
      return n === undefined ? undefined : entryOf(rel.split('/').pop()!, n);
    },
    read: (_c: Caller, rel: string): string => String(at(rel)),
    write(_c: Caller, rel: string, data: Buffer): void | number {
      if (data.toString() === 'bad') return 22;
      src.writes.push(`${rel}=${data.toString()}`);
      return undefined;
    },
  };
  return src;
}

const caller: Caller = { pid: 1, uid: 0, gid: 0 };

/** A FUSE request from pid 1 (uid 0) about nodeid. */
function req(opcode: number, nodeid: bigint, body: Buffer = Buffer.alloc(0)): Buffer {
  const h = Buffer.alloc(40);
  h.writeUInt32LE(40 + body.length, 0);
  h.writeUInt32LE(opcode, 4);
  h.writeBigUInt64LE(nodeid, 16);
  h.writeUInt32LE(1, 32);
  return Buffer.concat([h, body]);
}
const hostTree = (): Fake => ({ kernel: { panic: '0\n', random: { uuid: 'u\n' } }, vm: { swappiness: '60\n', link: '->../kernel/panic' } });
function build(src: PassthroughSource): StaticTree {
  const sys = dir({ kernel: dir({ emulated: file(() => 'mine\n') }) });
  sys.passthrough = { source: src, rel: '' };
  const kernel = sys.entries.kernel;
  if (kernel.kind === 'dir') kernel.passthrough = { source: src, rel: 'kernel' };
  return new StaticTree(dir({ sys }));
}

describe('pass-through directories', () => {
  it('static entries win; the source fills in the rest with hashed inode numbers', () => {
    const src = fakeSource(hostTree());
    const t = build(src);
    const sys = t.lookup(ROOT_INODE, 'sys')!;
    const kernel = t.lookup(sys.ino, 'kernel', caller)!;
    assert.equal(kernel.ino, staticIno('sys/kernel'), 'kernel is the static directory');
    assert.equal(t.lookup(kernel.ino, 'emulated', caller)!.node.kind, 'file');
    const panic = t.lookup(kernel.ino, 'panic', caller)!;
    assert.equal(panic.ino, passthroughIno(src, 'kernel/panic'), 'numbered by source and path');
    assert.equal(panic.parent, kernel.ino);
    assert.equal(panic.node.kind === 'file' && panic.node.read(caller), '0\n');
    assert.equal(t.lookup(kernel.ino, 'nope', caller), undefined);
    assert.equal(t.lookup(kernel.ino, 'panic'), undefined, 'no caller, no pass-through');
    assert.deepEqual(t.list(kernel.ino, caller)!.map((e) => e.name).sort(), ['emulated', 'panic', 'random']);
    assert.equal(t.size, 4, 'pass-through entries do not change the static size');
  });

  it('another worker (a tree built apart) finds an inode it never looked up, by walking', () => {
    const a = build(fakeSource(hostTree()));
    const kernelA = a.lookup(a.lookup(ROOT_INODE, 'sys')!.ino, 'kernel')!;
    const uuid = a.lookup(a.lookup(kernelA.ino, 'random', caller)!.ino, 'uuid', caller)!;
    const src = fakeSource(hostTree());
    const b = build(src);
    assert.equal(b.get(uuid.ino), undefined, 'unknown without a caller to walk as');
    const found = b.get(uuid.ino, caller)!;
    assert.equal(found.node.kind === 'file' && found.node.read(caller), 'u\n');
    assert.equal(found.parent, uuid.parent);
    assert.ok(src.lists >= 2);
    // One that is nowhere costs one walk, not one per request.
    const before = src.lists;
    assert.equal(b.get(uuid.ino + 1n, caller), undefined);
    const walked = src.lists - before;
    assert.ok(walked > 0);
    assert.equal(b.get(uuid.ino + 1n, caller), undefined);
    assert.equal(src.lists - before, walked, 'no second walk for it');
  });

  it('another worker looks a name up in a pass-through directory it never saw (a restart), by walking to it first', () => {
    // The kernel keeps a directory's entry across a sysbox-fs restart and looks its child up from
    // it: the restarted daemon must not answer "no such entry" (cached for the source's ttl) just
    // because this worker has not met the directory yet.
    const a = build(fakeSource(hostTree(), 1));
    const kernelA = a.lookup(a.lookup(ROOT_INODE, 'sys')!.ino, 'kernel')!;
    const random = a.lookup(kernelA.ino, 'random', caller)!;
    const b = build(fakeSource(hostTree(), 1));
    const uuid = b.lookup(random.ino, 'uuid', caller)!;
    assert.equal(uuid.ino, passthroughIno({ name: 'fake' } as PassthroughSource, 'kernel/random/uuid'));
    assert.equal(uuid.parent, random.ino);
    const slotted = (t: StaticTree): SlottedTree => new SlottedTree(t, 4, () => ({ uid: 1000, gid: 1000 }));
    const sa = slotted(build(fakeSource(hostTree(), 1)));
    const walk = (slot: string, ...names: string[]) => names.reduce((ino, n) => sa.lookup(ino, n, caller)!.ino, sa.lookup(ROOT_INODE, slot)!.ino);
    const random2 = walk('2', 'sys', 'kernel', 'random');
    const sb = slotted(build(fakeSource(hostTree(), 1)));
    assert.equal(sb.lookup(random2, 'uuid', caller)?.ino, walk('2', 'sys', 'kernel', 'random', 'uuid'));
    // Through the dispatcher: an entry, not a cached negative one.
    const opts: DispatchOptions = { entryTimeout: 86400, attrTimeout: 0, fileSize: 4096, time: 0 };
    const entry = dispatch(req(p.Opcode.LOOKUP, random2, Buffer.from('uuid\0')), slotted(build(fakeSource(hostTree(), 1))), opts)!;
    assert.equal(entry.readInt32LE(4), 0);
    assert.equal(entry.subarray(16).readBigUInt64LE(0), walk('2', 'sys', 'kernel', 'random', 'uuid'));
  });

  it('slots carry pass-through inodes apart and back, parents included', () => {
    const t = new SlottedTree(build(fakeSource(hostTree())), 4, () => ({ uid: 1000, gid: 1000 }));
    const walk = (slot: string, ...names: string[]) => names.reduce((ino, n) => t.lookup(ino, n, caller)!.ino, t.lookup(ROOT_INODE, slot)!.ino);
    const in1 = walk('1', 'sys', 'kernel', 'random', 'uuid');
    const in3 = walk('3', 'sys', 'kernel', 'random', 'uuid');
    assert.notEqual(in1, in3);
    const back = t.get(in3, caller)!;
    assert.equal(back.ino, in3);
    assert.equal(t.get(t.get(back.parent, caller)!.parent, caller)!.ino, walk('3', 'sys', 'kernel'));
    assert.deepEqual(t.list(walk('3', 'sys', 'kernel', 'random'), caller), [{ name: 'uuid', ino: in3, kind: 'file' }]);
  });

  it('the dispatcher uses the source\'s ttl, lists merged entries and writes through', () => {
    const OPTS: DispatchOptions = { entryTimeout: 86400, attrTimeout: 86400, fileSize: 4096, time: 0 };
    const src = fakeSource(hostTree(), 7);
    const t = build(src);
    const sysIno = t.lookup(ROOT_INODE, 'sys')!.ino;
    const vm = dispatch(req(p.Opcode.LOOKUP, sysIno, Buffer.from('vm\0')), t, OPTS)!.subarray(16);
    assert.equal(vm.readBigUInt64LE(16), 7n, 'entry ttl from the source');
    const vmIno = vm.readBigUInt64LE(0);
    const miss = dispatch(req(p.Opcode.LOOKUP, vmIno, Buffer.from('nope\0')), t, OPTS)!.subarray(16);
    assert.equal(miss.readBigUInt64LE(0), 0n);
    assert.equal(miss.readBigUInt64LE(16), 7n, 'a negative entry lasts as long as the source says');
    const readdir = Buffer.alloc(40);
    readdir.writeUInt32LE(4096, 16);
    const names = dispatch(req(p.Opcode.READDIR, sysIno, readdir), t, OPTS)!.toString('latin1');
    for (const n of ['kernel', 'vm']) assert.ok(names.includes(n), `${n} listed`);
    const swappiness = dispatch(req(p.Opcode.LOOKUP, vmIno, Buffer.from('swappiness\0')), t, OPTS)!.subarray(16).readBigUInt64LE(0);
    const write = (data: string): number => {
      const w = Buffer.alloc(40 + data.length);
      w.writeUInt32LE(data.length, 16);
      w.write(data, 40);
      return dispatch(req(p.Opcode.WRITE, swappiness, w), t, OPTS)!.readInt32LE(4);
    };
    assert.equal(write('10'), 0);
    assert.equal(write('bad'), -22);
    assert.deepEqual(src.writes, ['vm/swappiness=10']);
    const link = dispatch(req(p.Opcode.LOOKUP, vmIno, Buffer.from('link\0')), t, OPTS)!.subarray(16);
    assert.equal(link.readUInt32LE(40 + 60) & 0o170000, p.S_IFLNK);
    assert.equal(dispatch(req(p.Opcode.READLINK, link.readBigUInt64LE(0), Buffer.alloc(0)), t, OPTS)!.subarray(16).toString(), '../kernel/panic');
  });
});

describe('entries with a ttl of their own (neigh: the loopback device)', () => {
  it('keep it for their name and attributes, in LOOKUP and READDIRPLUS alike; their siblings and misses keep the source\'s', () => {
    const OPTS: DispatchOptions = { entryTimeout: 86400, attrTimeout: 0, fileSize: 4096, time: 0 };
    const base = fakeSource(hostTree(), 0);
    const own = (rel: string, e: PassthroughEntry): PassthroughEntry => ((rel === '' ? e.name : rel.split('/')[0]) === 'vm' ? { ...e, ttl: 5 } : e);
    const src: PassthroughSource = {
      ...base,
      list: (c, rel) => base.list(c, rel).map((e) => own(rel, e)),
      stat: (c, rel) => {
        const e = base.stat(c, rel);
        return e && own(rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '', e);
      },
    };
    const t = build(src);
    const sysIno = t.lookup(ROOT_INODE, 'sys')!.ino;
    const lookup = (parent: bigint, name: string): Buffer => dispatch(req(p.Opcode.LOOKUP, parent, Buffer.from(`${name}\0`)), t, OPTS)!.subarray(16);
    const vm = lookup(sysIno, 'vm');
    assert.deepEqual([vm.readBigUInt64LE(16), vm.readBigUInt64LE(24)], [5n, 5n], 'vm: its own entry and attribute ttl');
    const swappiness = lookup(vm.readBigUInt64LE(0), 'swappiness');
    assert.deepEqual([swappiness.readBigUInt64LE(16), swappiness.readBigUInt64LE(24)], [5n, 5n], 'an entry in it too');
    assert.equal(lookup(vm.readBigUInt64LE(0), 'nope').readBigUInt64LE(16), 0n, 'a miss lasts as long as the source says');
    const kernel = lookup(sysIno, 'kernel');
    assert.equal(lookup(kernel.readBigUInt64LE(0), 'panic').readBigUInt64LE(16), 0n, 'a sibling keeps the source\'s ttl');
    // READDIRPLUS answers each entry as LOOKUP: vm's ttl travels with it.
    const readIn = Buffer.alloc(40);
    readIn.writeUInt32LE(65536, 16);
    const plus = dispatch(req(p.Opcode.READDIRPLUS, sysIno, readIn), t, OPTS)!;
    const at = plus.indexOf(Buffer.from('vm')) - 152;
    assert.equal(plus.readBigUInt64LE(at + 16), 5n, 'READDIRPLUS: vm\'s entry ttl');
    // An inode made with the source's ttl is made anew when the entry now carries its own.
    const plain = build(base);
    const plainVm = plain.lookup(plain.lookup(ROOT_INODE, 'sys')!.ino, 'vm', caller)!;
    assert.equal(plainVm.ttl, 0);
    assert.equal(t.get(plainVm.ino)?.ttl, 5);
  });
});

describe('attributes answered to a host process', () => {
  it('are never kept, in a pass-through directory or entry alike (a fresh slot\'s /proc/sys showed as nobody inside for 10 s); a container\'s reader keeps them for the source\'s ttl', () => {
    const OPTS: DispatchOptions = { entryTimeout: 86400, attrTimeout: 1, fileSize: 4096, time: 0 };
    // pid 1 is a host process (owner: host root), pid 2 a container's (host uid 1000).
    const t = new SlottedTree(build(fakeSource(hostTree(), 7)), 2, (c) => (c.pid === 1 ? { uid: 0, gid: 0 } : { uid: 1000, gid: 1000 }));
    const ask = (parent: bigint, name: string, pid: number): Buffer => {
      const r = req(p.Opcode.LOOKUP, parent, Buffer.from(`${name}\0`));
      r.writeUInt32LE(pid, 32);
      return dispatch(r, t, OPTS)!.subarray(16);
    };
    const slot = ask(ROOT_INODE, '0', 2).readBigUInt64LE(0);
    const sys = ask(slot, 'sys', 1);
    assert.deepEqual([sys.readBigUInt64LE(16), sys.readBigUInt64LE(24)], [86400n, 0n], 'a static directory with a pass-through: its name kept, its attributes not');
    const vm = ask(sys.readBigUInt64LE(0), 'vm', 1);
    assert.deepEqual([vm.readBigUInt64LE(16), vm.readBigUInt64LE(24)], [7n, 0n], 'a pass-through entry: the same');
    assert.deepEqual([ask(slot, 'sys', 2).readBigUInt64LE(24), ask(sys.readBigUInt64LE(0), 'vm', 2).readBigUInt64LE(24)], [7n, 7n], 'a container\'s reader');
  });
});

describe('containerPerm', () => {
  it('shows what a non-host root may do: the other bits, never write', () => {
    assert.equal(containerPerm(0o644, false), 0o444);
    assert.equal(containerPerm(0o600, false), 0o000);
    assert.equal(containerPerm(0o200, false), 0o000);
    assert.equal(containerPerm(0o666, false), 0o444);
    assert.equal(containerPerm(0o555, true), 0o555);
    assert.equal(containerPerm(0o500, true), 0o000);
  });
});

describe('inode hashing', () => {
  // The reference: FNV-1a 64 in BigInt, as inode numbers were first made. Numbers must not move
  // (a restarted or upgraded daemon adopts a connection whose kernel holds the old ones).
  const reference = (text: string): number => {
    let h = 0xcbf29ce484222325n;
    for (const b of Buffer.from(text, 'utf8')) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
    return Number(h & ((1n << 40n) - 1n));
  };
  it('hashLow is FNV-1a 64 (low 40 bits) for ASCII and other UTF-8 alike', () => {
    const samples = ['', 'a', '\0static\0proc/uptime', 'host-sysfs\0kernel/mm/transparent_hugepage/enabled', 'ünïcødé/€', 'x'.repeat(300)];
    for (let i = 0; i < 200; i++) samples.push(`host-procfs\0sys/kernel/${i}/${String.fromCharCode(33 + i)}`);
    for (const s of samples) assert.equal(hashLow(s), reference(s), JSON.stringify(s));
    assert.equal(staticIno('proc/uptime'), (1n << 61n) + BigInt(reference('\0static\0proc/uptime')));
  });
});

describe('READDIRPLUS', () => {
  const OPTS: DispatchOptions = { entryTimeout: 86400, attrTimeout: 0, fileSize: 4096, time: 0 };
  const req = (opcode: number, nodeid: bigint, body: Buffer, pid = 1): Buffer => {
    const h = Buffer.alloc(40);
    h.writeUInt32LE(40 + body.length, 0);
    h.writeUInt32LE(opcode, 4);
    h.writeBigUInt64LE(nodeid, 16);
    h.writeUInt32LE(pid, 32);
    return Buffer.concat([h, body]);
  };
  const readIn = (offset: number, size: number): Buffer => {
    const b = Buffer.alloc(40);
    b.writeBigUInt64LE(BigInt(offset), 8);
    b.writeUInt32LE(size, 16);
    return b;
  };
  /** The entries of one reply: name, nodeid, entry ttl, mode, next offset. */
  const parse = (reply: Buffer): Array<{ name: string; nodeid: bigint; ttl: bigint; mode: number; off: number }> => {
    const out = [];
    for (let at = 16; at < reply.length;) {
      const namelen = reply.readUInt32LE(at + 144);
      out.push({ name: reply.toString('utf8', at + 152, at + 152 + namelen), nodeid: reply.readBigUInt64LE(at), ttl: reply.readBigUInt64LE(at + 16), mode: reply.readUInt32LE(at + 40 + 60), off: Number(reply.readBigUInt64LE(at + 136)) });
      at += p.direntplusSize(namelen);
    }
    return out;
  };

  it('answers each entry as LOOKUP would, skips . and .., and lists a directory once per walk', () => {
    const src = fakeSource(hostTree(), 7);
    const t = build(src);
    const listings = new RenderCache<Listing>();
    const sysIno = t.lookup(ROOT_INODE, 'sys')!.ino;
    const all = parse(dispatch(req(p.Opcode.READDIRPLUS, sysIno, readIn(0, 65536)), t, OPTS, undefined, listings)!);
    assert.deepEqual(all.slice(0, 2).map((e) => [e.name, e.nodeid]), [['.', 0n], ['..', 0n]]);
    const vm = all.find((e) => e.name === 'vm')!;
    const looked = dispatch(req(p.Opcode.LOOKUP, sysIno, Buffer.from('vm\0')), t, OPTS)!.subarray(16);
    assert.equal(vm.nodeid, looked.readBigUInt64LE(0));
    assert.equal(vm.ttl, 7n, 'the source\'s ttl');
    assert.equal(vm.mode & 0o170000, p.S_IFDIR);
    // Page by page (room for one entry each): the same entries, the directory listed once.
    const lists = src.lists;
    const paged: string[] = [];
    for (let off = 0; ;) {
      const part = parse(dispatch(req(p.Opcode.READDIRPLUS, sysIno, readIn(off, p.direntplusSize(40))), t, OPTS, undefined, listings)!);
      if (part.length === 0) break;
      paged.push(...part.map((e) => e.name));
      off = part[part.length - 1]!.off;
    }
    assert.deepEqual(paged, all.map((e) => e.name));
    assert.equal(src.lists - lists, 1);
  });
});

describe('hostPassthrough', () => {
  it('reads an entry whole in one read, and one longer than its buffer (64 KiB) whole too', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-pt-'));
    try {
      const big = Buffer.alloc(70_000, 0x61);
      fs.writeFileSync(path.join(root, 'big'), big);
      fs.writeFileSync(path.join(root, 'small'), '42\n');
      const h = hostPassthrough('r', root, 0);
      assert.ok(Buffer.from(h.read(caller, 'big')).equals(big));
      assert.equal(h.read(caller, 'small').toString(), '42\n');
      assert.throws(() => h.read(caller, 'nope'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('reads a setting (page-cached source) whole: short, exactly its first read\'s 1 KiB, and longer', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-pt-'));
    try {
      const sizes = [3, 1023, 1024, 1025, 70_000];
      for (const n of sizes) fs.writeFileSync(path.join(root, `s${n}`), Buffer.alloc(n, 0x62));
      const h = hostPassthrough('pc', root, 10, false, true);
      for (const round of [1, 2]) { // the second read goes through the fd kept open by the first
        for (const n of sizes) assert.equal(h.read(caller, `s${n}`).length, n, `${n} bytes, read ${round}`);
      }
      fs.writeFileSync(path.join(root, 's3'), '12345\n');
      assert.equal(h.read(caller, 's3').toString(), '12345\n', 'read again from offset 0');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('marks its files page-cached only when asked (the /proc/sys source, neigh), a writable source\'s too', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-pt-'));
    try {
      fs.writeFileSync(path.join(root, 'f'), '1\n');
      const fileOf = (src: PassthroughSource): unknown => {
        const t = new StaticTree(dir({ top: { kind: 'dir', entries: {}, passthrough: { source: src, rel: '' } } }));
        const n = t.lookup(staticIno('top'), 'f', caller)!.node;
        return n.kind === 'file' ? n.pageCached === true : undefined;
      };
      assert.equal(fileOf(hostPassthrough('pc', root, 10, false, true)), true);
      assert.equal(fileOf(hostPassthrough('np', root, 10, false)), false);
      const writable = { ...hostPassthrough('w', root, 10, false, true), write: () => undefined };
      assert.equal(fileOf(writable), true, 'dispatch opens it direct I/O for writing (kept-pages.test.ts)');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('lists kinds, container permissions and link targets; keeps a listing for its ttl only', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-pt-'));
    try {
      fs.mkdirSync(path.join(root, 'd', 'sub'), { recursive: true });
      fs.writeFileSync(path.join(root, 'd', 'open'), 'x');
      fs.writeFileSync(path.join(root, 'd', 'secret'), 'x', { mode: 0o600 });
      fs.chmodSync(path.join(root, 'd', 'secret'), 0o600);
      fs.symlinkSync('../elsewhere', path.join(root, 'd', 'link'));
      const byName = (es: readonly PassthroughEntry[]): Record<string, PassthroughEntry> => Object.fromEntries(es.map((e) => [e.name, e]));
      const fresh = hostPassthrough('t', root, 0);
      const got = byName(fresh.list(caller, 'd'));
      assert.deepEqual(Object.keys(got).sort(), ['link', 'open', 'secret', 'sub']);
      assert.deepEqual(got.sub, { name: 'sub', kind: 'dir', perm: containerPerm(fs.statSync(path.join(root, 'd', 'sub')).mode, true) });
      assert.deepEqual(got.open, { name: 'open', kind: 'file', perm: containerPerm(fs.statSync(path.join(root, 'd', 'open')).mode, false) });
      assert.equal(got.secret!.perm, 0);
      assert.deepEqual(got.link, { name: 'link', kind: 'symlink', perm: 0o777, target: '../elsewhere' });
      const kept = hostPassthrough('t', root, 60);
      assert.equal(kept.list(caller, 'd').length, 4);
      fs.writeFileSync(path.join(root, 'd', 'new'), 'x');
      assert.equal(kept.list(caller, 'd').length, 4, 'within the ttl the kernel may show the old names too');
      assert.equal(fresh.list(caller, 'd').length, 5);
      assert.throws(() => fresh.list(caller, 'nope'), (e: NodeJS.ErrnoException) => e.code === 'ENOENT');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('listings the kernel may keep', () => {
  const OPTS: DispatchOptions = { entryTimeout: 86400, attrTimeout: 0, fileSize: 4096, time: 0, cacheListings: true };
  const openFlags = (t: StaticTree, ino: bigint, opts = OPTS): number => dispatch(req(p.Opcode.OPENDIR, ino), t, opts)!.subarray(16).readUInt32LE(8);
  /** mtime nanoseconds in a GETATTR reply (attr_out: 16 bytes, then fuse_attr with mtimensec at 52). */
  const mtimeNsec = (t: StaticTree, ino: bigint): number => dispatch(req(p.Opcode.GETATTR, ino), t, OPTS)!.subarray(16).readUInt32LE(16 + 52);
  const attrTtl = (t: StaticTree, ino: bigint): bigint => dispatch(req(p.Opcode.GETATTR, ino), t, OPTS)!.subarray(16).readBigUInt64LE(0);

  it('a host directory is kept (CACHE_DIR | KEEP_CACHE); its mtime carries its listing\'s stamp, which changes with its names', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-stamp-'));
    try {
      fs.mkdirSync(path.join(root, 'kernel', 'sub'), { recursive: true });
      const host = hostPassthrough('h', root, 0);
      const t = build(host);
      const kernel = t.lookup(t.lookup(ROOT_INODE, 'sys')!.ino, 'kernel')!.ino;
      assert.equal(openFlags(t, kernel), p.FOPEN_CACHE_DIR | p.FOPEN_KEEP_CACHE);
      assert.equal(openFlags(t, kernel, { ...OPTS, cacheListings: false }), 0, 'not on a connection without AUTO_INVAL_DATA');
      assert.equal(attrTtl(t, kernel), 0n, 'a static directory with a pass-through has its source\'s attribute ttl');
      const before = mtimeNsec(t, kernel);
      assert.equal(mtimeNsec(t, kernel), before, 'unchanged listing, same stamp');
      fs.writeFileSync(path.join(root, 'kernel', 'new'), 'x');
      const after = mtimeNsec(t, kernel);
      assert.notEqual(after, before, 'a new name changes the stamp');
      assert.ok(after < 1e9);
      fs.rmSync(path.join(root, 'kernel', 'new'));
      assert.equal(mtimeNsec(t, kernel), before, 'back to the same names, back to the same stamp');
      assert.equal(t.listingStamp(ROOT_INODE, caller), 0, 'a static directory never changes');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a kept listing\'s stamp moves on with each ttl (the kernel then lists afresh); a source not kept has none', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-epoch-'));
    try {
      fs.mkdirSync(path.join(root, 'd'));
      const host = hostPassthrough('h', root, 0.05);
      const first = host.listingStamp!('d');
      await new Promise((r) => setTimeout(r, 120));
      assert.notEqual(host.listingStamp!('d'), first, 'same names, a later ttl period: another stamp');
      assert.equal(hostPassthrough('h', root, 10, false).listingStamp, undefined);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('a listing that depends on the caller (no listingStamp) is never kept', () => {
    const t = build(fakeSource(hostTree()));
    const kernel = t.lookup(t.lookup(ROOT_INODE, 'sys')!.ino, 'kernel')!.ino;
    assert.equal(t.listingStamp(kernel, caller), undefined);
    assert.equal(openFlags(t, kernel), 0);
  });

  it('a lookup right after a listing answers from it; a name the listing lacks is still looked up', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-lookup-'));
    try {
      fs.mkdirSync(path.join(root, 'd'));
      fs.writeFileSync(path.join(root, 'd', 'a'), 'x');
      const host = hostPassthrough('h', root, 60);
      assert.equal(host.list(caller, 'd').length, 1);
      fs.rmSync(path.join(root, 'd', 'a'));
      fs.writeFileSync(path.join(root, 'd', 'b'), 'x');
      assert.equal(host.stat(caller, 'd/a')?.kind, 'file', 'as listed (the kernel may keep the name as long)');
      assert.equal(host.stat(caller, 'd/b')?.kind, 'file', 'created since the listing: found on the host');
      assert.equal(host.stat(caller, 'd/c'), undefined);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
