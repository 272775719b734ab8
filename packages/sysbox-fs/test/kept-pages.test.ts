import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { dispatch, type DispatchOptions, type PageRecords } from '../src/fuse/dispatch.js';
import { KEPT_MAX, KEPT_PAGES_BYTES, KeptPages, openAnswer } from '../src/fuse/kept-pages.js';
import * as p from '../src/fuse/protocol.js';
import { dir, file, staticIno, StaticTree } from '../src/tree.js';

const b = (s: string): Buffer => Buffer.from(s);
/** Slotted inode numbers (slotted-tree.ts): 2^62 + slot·2^40 + a 40-bit hash. */
const slotted = (slot: number, hash: number): bigint => (1n << 62n) + (BigInt(slot) << 40n) + BigInt(hash);

describe('openAnswer: how an OPEN of a page-cached file is answered', () => {
  it('keeps the kernel\'s page only for the very rendering it holds', () => {
    assert.equal(openAnswer(b('42\n'), b('42\n')), 'keep');
    assert.equal(openAnswer(b('42\n'), b('43\n')), 'refill', 'same length, other bytes');
    assert.equal(openAnswer(b('9\n'), b('10\n')), 'refill', 'grown');
    assert.equal(openAnswer(undefined, b('42\n')), 'refill', 'nothing recorded (new, replaced, or a restarted daemon)');
    assert.equal(openAnswer(b(''), b('')), 'keep', 'empty is a rendering too');
  });
  it('leaves renderings longer than an entry holds to direct I/O', () => {
    assert.equal(openAnswer(undefined, Buffer.alloc(KEPT_MAX, 0x31)), 'refill');
    assert.equal(openAnswer(Buffer.alloc(KEPT_MAX + 1, 0x31), Buffer.alloc(KEPT_MAX + 1, 0x31)), 'direct');
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
  let fails = false;
  const tree = new StaticTree(dir({
    setting: { ...file(() => { if (fails) throw Object.assign(new Error('EIO'), { errno: -5 }); return value; }), pageCached: true },
    plain: file(() => value),
  }));
  const SETTING = staticIno('setting');
  const PLAIN = staticIno('plain');
  const kept = new KeptPages(new SharedArrayBuffer(KEPT_PAGES_BYTES));
  const replaced: Array<[bigint, string | undefined]> = [];
  const pages: PageRecords = { held: (ino) => kept.held(ino), replace: (ino, c) => { replaced.push([ino, c?.toString()]); kept.record(ino, c); } };
  const req = (opcode: number, nodeid: bigint, body: Buffer = Buffer.alloc(8)): Buffer => {
    const h = Buffer.alloc(40);
    h.writeUInt32LE(40 + body.length, 0);
    h.writeUInt32LE(opcode, 4);
    h.writeBigUInt64LE(1n, 8);
    h.writeBigUInt64LE(nodeid, 16);
    h.writeUInt32LE(99, 32);
    return Buffer.concat([h, body]);
  };
  const openFlags = (ino: bigint): number => dispatch(req(p.Opcode.OPEN, ino), tree, OPTS, undefined, undefined, pages)!.readUInt32LE(24);
  const readAt = (ino: bigint, offset: number): string => {
    const body = Buffer.alloc(40); body.writeBigUInt64LE(BigInt(offset), 8); body.writeUInt32LE(4096, 16);
    return dispatch(req(p.Opcode.READ, ino, body), tree, OPTS, undefined, undefined, pages)!.subarray(16).toString();
  };
  const size = (ino: bigint): bigint => dispatch(req(p.Opcode.GETATTR, ino, Buffer.alloc(16)), tree, OPTS, undefined, undefined, pages)!.readBigUInt64LE(16 + 16 + 8);

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
  it('files not marked page-cached stay direct I/O with st_size 4096', () => {
    value = '1\n';
    assert.equal(openFlags(PLAIN), p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH);
    assert.equal(size(PLAIN), 4096n);
    assert.equal(kept.held(PLAIN), undefined);
  });
});
