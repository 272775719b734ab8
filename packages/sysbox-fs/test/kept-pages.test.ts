import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { dispatch, type DispatchOptions, type PageRecords, type PageTables } from '../src/fuse/dispatch.js';
import { KEPT_MAX, KEPT_PAGES_BYTES, keptMax, keptPagesBytes, KeptPages, LONG_TABLE, openAnswer, SHARED_REFRESH_MS, SHORT_TABLE } from '../src/fuse/kept-pages.js';
import * as p from '../src/fuse/protocol.js';
import { dir, file, staticIno, StaticTree } from '../src/tree.js';

const b = (s: string): Buffer => Buffer.from(s);
/** Slotted inode numbers (slotted-tree.ts): 2^62 + slot·2^40 + a 40-bit hash. */
const slotted = (slot: number, hash: number): bigint => (1n << 62n) + (BigInt(slot) << 40n) + BigInt(hash);

describe('openAnswer: how an OPEN of a page-cached file is answered', () => {
  it('keeps the kernel\'s page only for the very rendering it holds', () => {
    assert.equal(openAnswer(b('42\n'), 0, b('42\n')), 'keep');
    assert.equal(openAnswer(b('42\n'), 0, b('43\n')), 'refill', 'same length, other bytes');
    assert.equal(openAnswer(b('9\n'), 0, b('10\n')), 'refill', 'grown');
    assert.equal(openAnswer(undefined, 0, b('42\n')), 'refill', 'nothing recorded (new, replaced, or a restarted daemon)');
    assert.equal(openAnswer(b(''), 0, b('')), 'keep', 'empty is a rendering too');
  });
  it('never changes a rendering that open handles read: another one opens direct I/O', () => {
    assert.equal(openAnswer(b('1.00 2.00\n'), 1, b('1.01 2.00\n')), 'direct');
    assert.equal(openAnswer(b('9.99 1.00\n'), 3, b('10.00 1.00\n')), 'direct', 'grown while read: not cut, not padded');
    assert.equal(openAnswer(b('1.00 2.00\n'), 2, b('1.00 2.00\n')), 'keep', 'the same one is shared');
  });
  it('leaves renderings longer than an entry holds to direct I/O', () => {
    assert.equal(openAnswer(undefined, 0, Buffer.alloc(KEPT_MAX, 0x31)), 'refill');
    assert.equal(openAnswer(Buffer.alloc(KEPT_MAX + 1, 0x31), 0, Buffer.alloc(KEPT_MAX + 1, 0x31)), 'direct');
  });
});

describe('KeptPages: the shared record', () => {
  it('records, replaces and forgets per inode; slots of one path are distinct inodes', () => {
    const k = new KeptPages(new SharedArrayBuffer(KEPT_PAGES_BYTES));
    const a = slotted(1, 12345), a2 = slotted(2, 12345);
    assert.equal(k.held(a), undefined);
    k.record(a, b('1\n'));
    k.record(a2, b('22\n'));
    assert.deepEqual(k.held(a), b('1\n'));
    assert.deepEqual(k.held(a2), b('22\n'));
    k.record(a, b('333\n'));
    assert.deepEqual(k.held(a), b('333\n'), 'replaced in place');
    k.record(a, undefined);
    assert.equal(k.held(a), undefined);
    k.record(a2, Buffer.alloc(KEPT_MAX + 1));
    assert.equal(k.held(a2), undefined, 'too long: forgotten, not cut');
  });
  it('a full set gives up a record, never mixes two inodes\' contents', () => {
    const k = new KeptPages(new SharedArrayBuffer(KEPT_PAGES_BYTES));
    // Same low 13 bits after folding: one set (8192 sets, 4 ways).
    const inos = Array.from({ length: 12 }, (_, i) => slotted(0, 1 + i * 8192));
    inos.forEach((ino, i) => k.record(ino, b(`v${i}\n`)));
    const kept = inos.map((ino, i) => [i, k.held(ino)] as const).filter(([, v]) => v !== undefined);
    assert.equal(kept.length, 4, 'as many as the ways');
    for (const [i, v] of kept) assert.deepEqual(v, b(`v${i}\n`));
  });
  it('a full set never gives up a record open handles read: the newcomer opens direct I/O', () => {
    const k = new KeptPages(new SharedArrayBuffer(KEPT_PAGES_BYTES));
    const inos = Array.from({ length: 5 }, (_, i) => slotted(0, 1 + i * 8192));
    inos.slice(0, 4).forEach((ino, i) => assert.equal(k.open(ino, b(`v${i}\n`)), 'refill'));
    assert.equal(k.open(inos[4]!, b('v4\n')), 'direct');
    inos.slice(0, 4).forEach((ino, i) => assert.deepEqual(k.held(ino), b(`v${i}\n`)));
    k.release(inos[2]!, k.fh);
    assert.equal(k.open(inos[4]!, b('v4\n')), 'refill', 'the way with no handle is given up');
    assert.equal(k.held(inos[2]!), undefined);
  });
  it('a GETATTR of a handle beside others renews a record only once it is SHARED_REFRESH_MS old (two tops)', () => {
    let now = 5_000;
    const k = new KeptPages(new SharedArrayBuffer(KEPT_PAGES_BYTES), SHORT_TABLE, () => now);
    const ino = slotted(3, 333);
    assert.equal(k.open(ino, b('1.00\n')), 'refill');
    assert.equal(k.open(ino, b('1.00\n')), 'keep');
    now += SHARED_REFRESH_MS - 1;
    assert.equal(k.refresh(ino, b('2.00\n')), false, 'two handles, a young record: stays');
    assert.equal(k.open(ino, b('1.00\n')), 'keep', 'an equal rendering at an OPEN renews the record\'s time');
    now += SHARED_REFRESH_MS - 1;
    assert.equal(k.refresh(ino, b('2.00\n')), false, 'still young');
    now += 1;
    assert.equal(k.refresh(ino, b('2.00\n')), true, 'old enough: renewed under the three handles');
    assert.deepEqual(k.held(ino), b('2.00\n'));
    assert.equal(k.opens(ino), 3, 'the count stays');
    assert.equal(k.refresh(ino, b('3.00\n')), false, 'and young again');
    for (let i = 0; i < 2; i++) k.release(ino, k.fh);
    assert.equal(k.refresh(ino, b('3.00\n')), true, 'a lone handle renews at once, as before');
    k.release(ino, k.fh);
    assert.equal(k.refresh(ino, b('4.00\n')), false, 'no handle counted: nothing to renew for');
  });
  it('is shared between threads: a record made in another worker is seen here', async () => {
    const sab = new SharedArrayBuffer(KEPT_PAGES_BYTES);
    const ino = slotted(7, 777);
    const w = new Worker(`
      const { workerData } = require('node:worker_threads');
      const { KeptPages } = require(${JSON.stringify(require.resolve('../src/fuse/kept-pages.js'))});
      new KeptPages(workerData.sab).record(workerData.ino, Buffer.from('from a worker\\n'));
    `, { eval: true, workerData: { sab, ino } });
    await new Promise((resolve, reject) => { w.on('exit', resolve); w.on('error', reject); });
    assert.deepEqual(new KeptPages(sab).held(ino), b('from a worker\n'));
  });
});

describe('dispatch of page-cached files', () => {
  const OPTS: DispatchOptions = { entryTimeout: 86400, attrTimeout: 86400, fileSize: 4096, time: 1700000000 };
  let value = '5\n';
  let longValue = 'MemTotal: 1 kB\n'.repeat(100);
  let fails = false;
  // Read as a container's root sees them (a host caller's attributes are never kept: dispatch.ts).
  const tree = Object.assign(new StaticTree(dir({
    setting: { ...file(() => { if (fails) throw Object.assign(new Error('EIO'), { errno: -5 }); return value; }), pageCached: true },
    plain: file(() => value),
    emulated: { ...file(() => value, (_c, data) => { value = data.toString(); }), pageCached: true },
    long: { ...file(() => longValue), pageCached: true, longRendering: true },
  })), { owner: () => ({ uid: 100000, gid: 100000 }) });
  const SETTING = staticIno('setting');
  const PLAIN = staticIno('plain');
  const kept = new KeptPages(new SharedArrayBuffer(KEPT_PAGES_BYTES));
  const keptLong = new KeptPages(new SharedArrayBuffer(keptPagesBytes(LONG_TABLE)), LONG_TABLE);
  const replaced: Array<[bigint, string | undefined]> = [];
  const recordsOf = (k: KeptPages): PageRecords => ({
    fh: k.fh,
    held: (ino) => k.held(ino),
    open: (ino, r) => { const a = k.open(ino, r); if (a === 'refill') replaced.push([ino, r.toString()]); return a; },
    forget: (ino) => { replaced.push([ino, undefined]); k.record(ino, undefined); },
    release: (ino, fh) => k.release(ino, fh),
    refresh: (ino, r) => k.refresh(ino, r),
    version: (ino) => k.version(ino),
    opens: (ino) => k.opens(ino),
  });
  const pages: PageTables = { short: recordsOf(kept), long: recordsOf(keptLong) };
  const req = (opcode: number, nodeid: bigint, body: Buffer = Buffer.alloc(8)): Buffer => {
    const h = Buffer.alloc(40);
    h.writeUInt32LE(40 + body.length, 0);
    h.writeUInt32LE(opcode, 4);
    h.writeBigUInt64LE(1n, 8);
    h.writeBigUInt64LE(nodeid, 16);
    h.writeUInt32LE(99, 32);
    return Buffer.concat([h, body]);
  };
  /** Opens ino; the handle stays open (counted) until close(fh) unless closeNow. */
  const openOf = (ino: bigint): { flags: number; fh: bigint } => {
    const out = dispatch(req(p.Opcode.OPEN, ino), tree, OPTS, undefined, undefined, pages)!;
    return { flags: out.readUInt32LE(24), fh: out.readBigUInt64LE(16) };
  };
  const close = (ino: bigint, fh: bigint): void => {
    const body = Buffer.alloc(24); body.writeBigUInt64LE(fh, 0);
    dispatch(req(p.Opcode.RELEASE, ino, body), tree, OPTS, undefined, undefined, pages);
  };
  /** An open closed at once (cat): its flags. */
  const openFlags = (ino: bigint): number => { const o = openOf(ino); close(ino, o.fh); return o.flags; };
  const readAt = (ino: bigint, offset: number, fh = kept.fh, size = 4096): string => {
    const body = Buffer.alloc(40); body.writeBigUInt64LE(fh, 0); body.writeBigUInt64LE(BigInt(offset), 8); body.writeUInt32LE(size, 16);
    return dispatch(req(p.Opcode.READ, ino, body), tree, OPTS, undefined, undefined, pages)!.subarray(16).toString();
  };
  const size = (ino: bigint): bigint => dispatch(req(p.Opcode.GETATTR, ino, Buffer.alloc(16)), tree, OPTS, undefined, undefined, pages)!.readBigUInt64LE(16 + 16 + 8);

  it('a writable page-cached file (an emulated setting) is opened direct I/O for writing; the next read-only open refills with the written value', () => {
    const EMULATED = staticIno('emulated');
    const open = (flags: number): { flags: number; fh: bigint } => {
      const body = Buffer.alloc(8); body.writeUInt32LE(flags, 0);
      const out = dispatch(req(p.Opcode.OPEN, EMULATED, body), tree, OPTS, undefined, undefined, pages)!;
      return { flags: out.readUInt32LE(24), fh: out.readBigUInt64LE(16) };
    };
    value = '5\n';
    let o = open(fs.constants.O_RDONLY);
    assert.equal(o.flags & (p.FOPEN_DIRECT_IO | p.FOPEN_KEEP_CACHE), 0, 'first read-only open: refill');
    close(EMULATED, o.fh);
    o = open(fs.constants.O_RDONLY);
    assert.equal(o.flags & p.FOPEN_KEEP_CACHE, p.FOPEN_KEEP_CACHE, 'unchanged: kept');
    close(EMULATED, o.fh);
    for (const flags of [fs.constants.O_WRONLY, fs.constants.O_RDWR]) {
      const w = open(flags);
      assert.equal(w.flags & p.FOPEN_DIRECT_IO, p.FOPEN_DIRECT_IO, `opened ${flags === fs.constants.O_WRONLY ? 'write-only' : 'read-write'}: direct I/O`);
      assert.equal(w.fh, 0n, 'not counted');
    }
    const body = Buffer.alloc(40 + 3); body.writeUInt32LE(3, 16); body.write('12\n', 40);
    assert.equal(dispatch(req(p.Opcode.WRITE, EMULATED, body), tree, OPTS, undefined, undefined, pages)!.readInt32LE(4), 0);
    o = open(fs.constants.O_RDONLY);
    assert.equal(o.flags & (p.FOPEN_DIRECT_IO | p.FOPEN_KEEP_CACHE), 0, 'after the write: refill (the kernel drops the old page)');
    assert.equal(readAt(EMULATED, 0, o.fh), '12\n');
    assert.equal(size(EMULATED), 3n, 'st_size is the written value\'s length');
    close(EMULATED, o.fh);
    value = '5\n';
    replaced.length = 0;
  });

  it('first OPEN refills (no KEEP_CACHE, no DIRECT_IO, the rendering recorded), the next ones keep while the value stays', () => {
    assert.equal(size(SETTING), 4096n, 'nothing recorded yet: st_size');
    assert.equal(openFlags(SETTING), p.FOPEN_NOFLUSH);
    assert.deepEqual(replaced.at(-1), [SETTING, '5\n']);
    assert.equal(size(SETTING), 2n, 'attributes carry the recorded length');
    assert.equal(openFlags(SETTING), p.FOPEN_KEEP_CACHE | p.FOPEN_NOFLUSH);
    assert.equal(openFlags(SETTING), p.FOPEN_KEEP_CACHE | p.FOPEN_NOFLUSH);
    assert.equal(replaced.length, 1, 'a kept open records nothing');
  });
  it('a changed value refills with the new rendering; a READ (fill or refill after eviction) serves the recorded one', () => {
    value = '10\n';
    assert.equal(openFlags(SETTING), p.FOPEN_NOFLUSH);
    assert.deepEqual(replaced.at(-1), [SETTING, '10\n']);
    value = '11\n'; // changed again after the open: the page still gets what the open recorded
    assert.equal(readAt(SETTING, 0), '10\n');
    assert.equal(readAt(SETTING, 3), '');
    assert.equal(size(SETTING), 3n);
  });
  it('a rendering that fails, or one too long to keep, opens direct I/O and forgets the record', () => {
    fails = true;
    assert.equal(openFlags(SETTING), p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH);
    assert.equal(kept.held(SETTING), undefined);
    assert.equal(size(SETTING), 4096n);
    fails = false;
    value = `${'9'.repeat(KEPT_MAX)}\n`;
    assert.equal(openFlags(SETTING), p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH);
    assert.equal(readAt(SETTING, 0), value);
  });
  it('counts open handles: while one reads a rendering, a changed one opens direct I/O with its own, and the record stays', () => {
    value = '7\n';
    const a = openOf(SETTING);
    assert.equal(a.flags, p.FOPEN_NOFLUSH, 'refill');
    assert.notEqual(a.fh, 0n);
    assert.equal(kept.opens(SETTING), 1);
    const same = openOf(SETTING);
    assert.equal(same.flags, p.FOPEN_KEEP_CACHE | p.FOPEN_NOFLUSH);
    assert.equal(kept.opens(SETTING), 2);
    value = '800\n';
    const other = openOf(SETTING);
    assert.equal(other.flags, p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH);
    assert.equal(other.fh, 0n, 'not counted');
    assert.equal(readAt(SETTING, 0, other.fh, 65536), '800\n', 'a direct handle reads its own rendering');
    assert.equal(readAt(SETTING, 0), '7\n', 'a counted handle refilling after eviction reads the one it opened');
    assert.equal(size(SETTING), 2n, 'i_size stays the open handles\' length');
    close(SETTING, other.fh);
    close(SETTING, a.fh);
    assert.equal(openOf(SETTING).flags, p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH, 'one handle still open');
    close(SETTING, same.fh);
    assert.equal(kept.opens(SETTING), 0);
    const b2 = openOf(SETTING);
    assert.equal(b2.flags, p.FOPEN_NOFLUSH, 'all closed: refills');
    assert.equal(readAt(SETTING, 0), '800\n');
    close(SETTING, b2.fh);
  });
  it('a lone handle kept open and read again after the attribute ttl (GETATTR with its fh) moves on; never beside others', () => {
    const getattr = (fh: bigint): Buffer => {
      const body = Buffer.alloc(16); body.writeUInt32LE(fh ? p.FUSE_GETATTR_FH : 0, 0); body.writeBigUInt64LE(fh, 8);
      return dispatch(req(p.Opcode.GETATTR, SETTING, body), tree, OPTS, undefined, undefined, pages)!;
    };
    const mtimeNsec = (out: Buffer): number => out.readUInt32LE(16 + 16 + 52);
    value = '1.00\n';
    const a = openOf(SETTING);
    const first = getattr(a.fh);
    assert.equal(first.readBigUInt64LE(0 + 16), 1n, 'attr ttl 1 s');
    value = '22.00\n';
    assert.equal(getattr(0n).readBigUInt64LE(16 + 16 + 8), 5n, 'a stat without the handle changes nothing');
    value = '1.00\n';
    const other = openOf(SETTING);
    assert.equal(other.flags, p.FOPEN_KEEP_CACHE | p.FOPEN_NOFLUSH);
    value = '22.00\n';
    const moved = getattr(a.fh);
    assert.equal(moved.readBigUInt64LE(16 + 16 + 8), 5n, 'not alone: the record stays');
    close(SETTING, other.fh);
    const second = getattr(a.fh);
    assert.equal(second.readBigUInt64LE(16 + 16 + 8), 6n, 'alone: the new length');
    assert.notEqual(mtimeNsec(second), mtimeNsec(first), 'and a new mtime, which drops pages of the same length too');
    assert.equal(readAt(SETTING, 0), '22.00\n');
    close(SETTING, a.fh);
  });
  it('a RELEASE of a handle another sysbox-fs counted (other fh) counts nothing down', () => {
    value = '3\n';
    const a = openOf(SETTING);
    close(SETTING, a.fh ^ 0x5n);
    assert.equal(kept.opens(SETTING), 1);
    close(SETTING, a.fh);
    assert.equal(kept.opens(SETTING), 0);
  });
  it('a file of long renderings (meminfo) is recorded up to a page in its own table; a setting that long stays direct', () => {
    const LONG = staticIno('long');
    longValue = 'MemTotal: 1 kB\n'.repeat(100); // 1500 bytes
    const a = openOf(LONG);
    assert.equal(a.flags, p.FOPEN_NOFLUSH, 'refill');
    assert.equal(a.fh, keptLong.fh, 'counted in the long table');
    assert.equal(keptLong.opens(LONG), 1);
    assert.equal(kept.held(LONG), undefined, 'not in the short table');
    assert.equal(readAt(LONG, 0, a.fh), longValue);
    assert.equal(size(LONG), 1500n);
    const attr = dispatch(req(p.Opcode.GETATTR, LONG, Buffer.alloc(16)), tree, OPTS, undefined, undefined, pages)!;
    assert.deepEqual([attr.readBigUInt64LE(16), attr.readUInt32LE(24)], [0n, 100_000_000], 'attributes kept 0.1 s (a sampler holding /proc/stat open)');
    const b2 = openOf(LONG);
    assert.equal(b2.flags, p.FOPEN_KEEP_CACHE | p.FOPEN_NOFLUSH, 'unchanged: kept');
    longValue = 'MemTotal: 2 kB\n'.repeat(100);
    const c = openOf(LONG);
    assert.equal(c.flags, p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH, 'changed beside counted handles: direct');
    for (const h of [a, b2, c]) close(LONG, h.fh);
    assert.equal(keptLong.opens(LONG), 0, 'RELEASEs uncount in the long table');
    assert.equal(openFlags(LONG), p.FOPEN_NOFLUSH, 'then the change refills');
    assert.equal(readAt(LONG, 0, keptLong.fh), longValue);
    longValue = 'x'.repeat(keptMax(LONG_TABLE) + 1);
    assert.equal(openFlags(LONG), p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH, 'longer than a long entry: direct');
    value = '1'.repeat(1500);
    assert.equal(openFlags(SETTING), p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH, 'a setting\'s 1500 bytes: direct (short table)');
    value = '5\n';
  });
  it('files not marked page-cached stay direct I/O with st_size 4096', () => {
    value = '1\n';
    assert.equal(openFlags(PLAIN), p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH);
    assert.equal(size(PLAIN), 4096n);
    assert.equal(kept.held(PLAIN), undefined);
  });

  it("attributes a host process is answered (owner host root) are never kept: the container's stat must not show nobody", () => {
    const hostTree = Object.assign(new StaticTree(dir({ setting: { ...file(() => '5\n'), pageCached: true } })), { owner: () => ({ uid: 0, gid: 0 }) });
    const out = dispatch(req(p.Opcode.GETATTR, SETTING, Buffer.alloc(16)), hostTree, OPTS, undefined, undefined, pages)!;
    assert.equal(out.readBigUInt64LE(16), 0n, 'attr ttl 0 for a host caller');
    assert.equal(dispatch(req(p.Opcode.GETATTR, SETTING, Buffer.alloc(16)), tree, OPTS, undefined, undefined, pages)!.readBigUInt64LE(16), 1n, 'a container root\'s are kept 1 s');
  });
});
