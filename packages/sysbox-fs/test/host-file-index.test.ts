import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ENTRY_BYTES, HostFileIndex } from '../src/fuse/host-file-index.js';

const slotIno = (s: bigint, h: bigint): bigint => (1n << 62n) + (s << 40n) + h;

describe('host file index (which host procfs file a page-cached inode shows)', () => {
  it('one entry per path hash, found from every slot\'s copy of the inode', () => {
    const index = new HostFileIndex(new SharedArrayBuffer(64 * ENTRY_BYTES));
    index.note(slotIno(1n, 42n), 'sys/kernel/pid_max');
    assert.equal(index.pathOf(slotIno(1n, 42n)), 'sys/kernel/pid_max');
    assert.equal(index.pathOf(slotIno(9n, 42n)), 'sys/kernel/pid_max');
    assert.equal(index.pathOf(slotIno(1n, 43n)), undefined);
  });

  it('skips entries another writer holds, and records nothing past a full probe run or for a path too long', () => {
    const buf = new SharedArrayBuffer(64 * ENTRY_BYTES);
    const ints = new Int32Array(buf);
    const key = 42n;
    const home = Number((key ^ (key >> 20n)) & 0xffffffffn) % 64;
    Atomics.store(ints, home * (ENTRY_BYTES / 4), 1); // being written by a worker that died
    const index = new HostFileIndex(buf);
    index.note(slotIno(1n, key), 'sys/fs/file-max');
    assert.equal(index.pathOf(slotIno(2n, key)), 'sys/fs/file-max', 'written one entry on');
    index.note(slotIno(1n, 77n), `sys/${'x'.repeat(ENTRY_BYTES)}`);
    assert.equal(index.pathOf(slotIno(1n, 77n)), undefined);
    const full = new HostFileIndex(new SharedArrayBuffer(4 * ENTRY_BYTES));
    for (let h = 1n; h <= 5n; h++) full.note(slotIno(0n, h), `sys/kernel/n${h}`);
    const found = [1n, 2n, 3n, 4n, 5n].filter((h) => full.pathOf(slotIno(0n, h)) !== undefined);
    assert.equal(found.length, 4, 'four entries hold four paths; the fifth is not recorded');
  });
});
