// OPENs of unchanged host settings, answered by a holder itself (native kept-open.cc): the arena's
// page record table (kept-pages.ts) and host file index (host-file-index.ts) say which inode shows
// which host procfs file and what the kernel keeps of it; an OPEN for reading whose record is what
// the host file reads now is answered FOPEN_KEEP_CACHE with the counted fh, every other goes to the
// server. Played without a kernel ring, as ring-answer.test.ts does. A file of its own: a process
// holds one arena, once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import * as native from '@sysbox/native';
import { KeptPages, SHORT_TABLE } from '../src/fuse/kept-pages.js';
import { HostFileIndex, HOST_FILES } from '../src/fuse/host-file-index.js';
import { COMMIT_ID, ENDED, IN_KERNEL, PAGE, PAYLOAD, PAYLOAD_SZ, put, REPLY_FOR, REQUEST, slotAt, STATE, u32 } from './fixtures/ring-arena.js';

const OPEN = 14;
const OP_IN = 128;
const FOPEN_KEEP_CACHE = 1 << 1;
const FOPEN_NOFLUSH = 1 << 5;

function u64(fd: number, at: number): bigint {
  return (BigInt(u32(fd, at + 4)) << 32n) | BigInt(u32(fd, at));
}

/** Slot k holding an OPEN (flags: open(2)'s) the kernel handed it that no holder marked. */
function openRequest(fd: number, k: number, unique: bigint, nodeid: bigint, flags: number): void {
  put(fd, slotAt(k) + 0, 40 + 8);
  put(fd, slotAt(k) + 4, OPEN);
  put(fd, slotAt(k) + 8, unique);
  put(fd, slotAt(k) + 16, nodeid);
  put(fd, slotAt(k) + OP_IN, flags);
  put(fd, slotAt(k) + OP_IN + 4, 0);
  put(fd, slotAt(k) + STATE, IN_KERNEL);
  put(fd, slotAt(k) + COMMIT_ID, 100n + BigInt(k));
  put(fd, slotAt(k) + REPLY_FOR, 50n + BigInt(k));
}

/** Slot s's copy of the inode whose path hash is h (slotted-tree.ts). */
const slotIno = (s: bigint, h: bigint): bigint => (1n << 62n) + (s << 40n) + h;

describe('FUSE ring OPENs a holder answers itself', () => {
  it('answers a read-only OPEN of a noted host setting whose record is what the host reads, counting the handle; the rest go to the server', () => {
    const arena = native.uringArena(-1, PAYLOAD, 1, 4, SHORT_TABLE.sets, SHORT_TABLE.entryBytes, HOST_FILES);
    assert.equal(arena.kept, true);
    const views = native.uringKeptTable(arena.base);
    assert.ok(views, 'the arena has a page record table');
    const kept = new KeptPages(views.table);
    const index = new HostFileIndex(views.hostFiles);
    const ostype = fs.readFileSync('/proc/sys/kernel/ostype');
    const [h, other] = [0x1234567n, 0x7654321n];
    const x = slotIno(3n, h), y = slotIno(4n, h), z = slotIno(3n, other);
    // Records as a server's OPENs leave them (refill, then its RELEASE).
    for (const [ino, content] of [[x, ostype], [y, Buffer.from('Windows\n')], [z, ostype]] as const) {
      assert.equal(kept.open(ino, content), 'refill');
      kept.release(ino, kept.fh);
    }
    index.note(x, 'sys/kernel/ostype'); // y shares x's path hash: another container's copy of the file
    assert.equal(index.pathOf(y), 'sys/kernel/ostype');

    openRequest(arena.fd, 0, 2001n, x, fs.constants.O_RDONLY);
    openRequest(arena.fd, 1, 2002n, y, fs.constants.O_RDONLY); // its record is not what the host reads
    openRequest(arena.fd, 2, 2003n, z, fs.constants.O_RDONLY); // no host file noted for it
    openRequest(arena.fd, 3, 2004n, x, fs.constants.O_WRONLY); // for writing: direct I/O, the server's
    native.uringHold(arena.fd, arena.base);
    for (let i = 0; i < 100 && u32(arena.fd, ENDED) !== 1; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    assert.equal(u32(arena.fd, ENDED), 1, 'the holder ended the queue when its ring commands failed');

    assert.equal(u32(arena.fd, slotAt(0)), 16 + 16, 'an out header and a fuse_open_out');
    assert.equal(u32(arena.fd, slotAt(0) + 4), 0, 'success');
    assert.equal(u64(arena.fd, slotAt(0) + 8), 2001n, 'answers its request');
    assert.equal(u32(arena.fd, slotAt(0) + PAYLOAD_SZ), 16);
    assert.equal(u64(arena.fd, slotAt(0) + 2 * PAGE), kept.fh, 'the counted handle');
    assert.equal(u32(arena.fd, slotAt(0) + 2 * PAGE + 8), FOPEN_KEEP_CACHE | FOPEN_NOFLUSH);
    assert.equal(u32(arena.fd, slotAt(0) + STATE), IN_KERNEL, 'committed');
    assert.equal(kept.opens(x), 1, 'counted where the servers count');
    assert.equal(native.uringKeptAnswered(arena.base), 1);
    for (const k of [1, 2, 3]) assert.equal(u32(arena.fd, slotAt(k) + STATE), REQUEST, `slot ${k} goes to the server`);
    assert.equal(kept.opens(y), 0);
    assert.equal(kept.opens(z), 0);
  });

  it('unlocks a set a dead worker left locked at a restart, and only sets a dead holder marked at a takeover', () => {
    const views = native.uringKeptTable(Number(0x600000000000n));
    assert.ok(views);
    const seq = new Int32Array(views.table, 0, SHORT_TABLE.sets);
    Atomics.store(seq, 6, 9); // locked by a live worker when the keeper died
    native.uringKeptRepair(Number(0x600000000000n), true);
    assert.equal(Atomics.load(seq, 6), 9, 'a takeover leaves the workers\' locks alone');
    Atomics.store(seq, 5, 7); // locked by a worker of a killed sysbox-fs
    native.uringKeptRepair(Number(0x600000000000n), false);
    assert.equal(Atomics.load(seq, 5), 8, 'a restarted sysbox-fs unlocks it');
    assert.equal(Atomics.load(seq, 6), 10);
  });
});
