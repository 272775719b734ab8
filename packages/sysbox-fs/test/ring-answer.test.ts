// What a holder answers by itself (native fuse-uring.cc, AnswerHere): RELEASE, RELEASEDIR and FLUSH,
// with a counted handle's RELEASE logged for a server to uncount (uringExchange's released). Played
// without a kernel ring, as ring-adopt.test.ts does: the slots hold requests the holder finds
// unmarked at its start, on an fd that is no FUSE connection (its ring commands fail and it ends the
// queue right after). A file of its own: a process holds one arena, once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as native from '@sysbox/native';
import { COMMIT_ID, ENDED, IN_KERNEL, PAGE, PAYLOAD, put, REPLY_FOR, REQUEST, slotAt, STATE, u32 } from './fixtures/ring-arena.js';

const [RELEASE, RELEASEDIR, GETATTR] = [18, 29, 3];
/** Queue 0's release log (QueueCtl after serverAsleep): head, tail, then 3 entries of nodeid lo, hi, fh. */
const RELEASE_HEAD = 64 + 20;
const RELEASE_TAIL = 64 + 24;
const RELEASE_LOG = 64 + 28;
/** A slot's op header (ReqHeader.op_in). */
const OP_IN = 128;

function u64(fd: number, at: number): bigint {
  return (BigInt(u32(fd, at + 4)) << 32n) | BigInt(u32(fd, at));
}

/** Slot k holding a request the kernel handed it (commit id) that no holder marked (replyFor older). */
function request(fd: number, k: number, opcode: number, unique: bigint, nodeid: bigint, fh = 0n): void {
  put(fd, slotAt(k) + 0, 40 + (opcode === GETATTR ? 16 : 24));
  put(fd, slotAt(k) + 4, opcode);
  put(fd, slotAt(k) + 8, unique);
  put(fd, slotAt(k) + 16, nodeid);
  put(fd, slotAt(k) + OP_IN, fh);
  put(fd, slotAt(k) + STATE, IN_KERNEL);
  put(fd, slotAt(k) + COMMIT_ID, 100n + BigInt(k));
  put(fd, slotAt(k) + REPLY_FOR, 50n + BigInt(k));
}

describe('FUSE ring requests a holder answers itself', () => {
  it('answers RELEASE, RELEASEDIR and FLUSH with success, logs a counted RELEASE for the server, and marks the rest', () => {
    const arena = native.uringArena(-1, PAYLOAD, 1, 4);
    const ino = (1n << 62n) + (3n << 40n) + 12345n;
    request(arena.fd, 0, RELEASE, 1001n, ino, 0x1234n);
    request(arena.fd, 1, RELEASEDIR, 1002n, 77n);
    request(arena.fd, 2, GETATTR, 1003n, ino);
    request(arena.fd, 3, RELEASE, 1004n, ino, 0n); // a direct I/O handle: nothing to uncount
    native.uringHold(arena.fd, arena.base);
    for (let i = 0; i < 100 && u32(arena.fd, ENDED) !== 1; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    assert.equal(u32(arena.fd, ENDED), 1, 'the holder ended the queue when its ring commands failed');

    for (const [k, unique] of [[0, 1001n], [1, 1002n], [3, 1004n]] as const) {
      // fuse_out_header over the request: len 16, error 0, the request's unique; committed (IN_KERNEL once submitted).
      assert.equal(u32(arena.fd, slotAt(k)), 16, `slot ${k}: an out header of its own`);
      assert.equal(u32(arena.fd, slotAt(k) + 4), 0, `slot ${k}: success`);
      assert.equal(u64(arena.fd, slotAt(k) + 8), unique, `slot ${k}: answers its request`);
      assert.equal(u64(arena.fd, slotAt(k) + REPLY_FOR), 100n + BigInt(k), `slot ${k}: replyFor is the answered commit id`);
      assert.equal(u32(arena.fd, slotAt(k) + STATE), IN_KERNEL, `slot ${k}: committed`);
    }
    assert.equal(u32(arena.fd, slotAt(2) + STATE), REQUEST, 'GETATTR goes to the server');
    assert.equal(u32(arena.fd, RELEASE_HEAD), 1, 'one RELEASE logged: the counted one');
    assert.deepEqual([u32(arena.fd, RELEASE_LOG), u32(arena.fd, RELEASE_LOG + 4), u32(arena.fd, RELEASE_LOG + 8)],
      [Number(ino & 0xffffffffn), Number(ino >> 32n), 0x1234]);

    const server = native.uringServe(arena.base, 0, false);
    const buf = Buffer.alloc(PAYLOAD + PAGE);
    const released = new Uint32Array(1 + 3 * 8);
    const n = native.uringExchange(server, null, buf, released);
    assert.ok(n > 0 && buf.readUInt32LE(4) === GETATTR, 'the server is handed the GETATTR');
    assert.deepEqual([...released.subarray(0, 4)], [1, Number(ino & 0xffffffffn), Number(ino >> 32n), 0x1234], 'and the logged RELEASE');
    assert.equal(u32(arena.fd, RELEASE_TAIL), 1, 'taken from the log');
  });
});
