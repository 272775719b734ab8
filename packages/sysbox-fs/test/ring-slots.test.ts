// The server side of the FUSE ring slots (native fuse-uring.cc) without a kernel ring: the test
// plays the holder, writing a request into a slot of the arena memfd the way the kernel and the
// holder would, and checks what a server hands back and leaves for a successor.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import * as native from '@sysbox/native';
import { COMMIT_ID, DOORBELL, PAGE, PAYLOAD, PAYLOAD_SZ, put, REPLIED, REQUEST, REQUEST_SEQ, SERVING, slotAt, STATE, u32 } from './fixtures/ring-arena.js';

/** A LOOKUP of `name` (its name is the payload), as the kernel lays it in a slot. */
function placeLookup(fd: number, k: number, unique: bigint, name: string): void {
  const at = slotAt(k);
  const payload = Buffer.from(`${name}\0`);
  const ih = Buffer.alloc(40);
  ih.writeUInt32LE(40 + payload.length, 0);
  ih.writeUInt32LE(1 /* LOOKUP */, 4);
  ih.writeBigUInt64LE(unique, 8);
  ih.writeBigUInt64LE(1n, 16);
  fs.writeSync(fd, ih, 0, 40, at);
  const e = Buffer.alloc(12);
  e.writeBigUInt64LE(unique, 0);
  e.writeUInt32LE(payload.length, 8);
  fs.writeSync(fd, e, 0, 12, at + COMMIT_ID);
  fs.writeSync(fd, payload, 0, payload.length, at + 2 * PAGE);
  put(fd, at + STATE, REQUEST);
  put(fd, REQUEST_SEQ, u32(fd, REQUEST_SEQ) + 1);
}

describe('FUSE ring slots (server side)', () => {
  // One arena per process, at its fixed address: the cases below share it.
  const arena = native.uringArena(-1, PAYLOAD, 1, 2);

  it('hands over a request in the classic layout, then leaves the reply REPLIED and rings the doorbell', () => {
    placeLookup(arena.fd, 0, 42n, 'meminfo');
    const server = native.uringServe(arena.base, 0, false);
    const buf = Buffer.alloc(PAYLOAD + PAGE);
    const n = native.uringExchange(server, null, buf);
    assert.equal(n, 40 + 8);
    assert.equal(buf.readUInt32LE(4), 1);
    assert.equal(buf.readBigUInt64LE(8), 42n);
    assert.equal(buf.subarray(40, n).toString(), 'meminfo\0');
    assert.equal(u32(arena.fd, slotAt(0) + STATE), SERVING);

    // The reply (an entry_out of 128 bytes) covers the name; the next request is already waiting.
    placeLookup(arena.fd, 1, 44n, 'stat');
    const bell = u32(arena.fd, DOORBELL);
    const reply = Buffer.alloc(16 + 128, 7);
    reply.writeUInt32LE(reply.length, 0);
    reply.writeInt32LE(0, 4);
    reply.writeBigUInt64LE(42n, 8);
    const m = native.uringExchange(server, reply, buf);
    assert.equal(buf.subarray(40, m).toString(), 'stat\0');
    assert.equal(u32(arena.fd, slotAt(0) + STATE), REPLIED);
    assert.equal(u32(arena.fd, DOORBELL), bell + 1);
    assert.equal(u32(arena.fd, slotAt(0) + PAYLOAD_SZ), 128, 'the reply body size, for the kernel');
  });

  it('a successor serves again, whole, a request its predecessor died replying to', () => {
    // Slot 0 as a server killed halfway through its reply: the reply is in, the state still SERVING.
    put(arena.fd, slotAt(0) + STATE, SERVING);
    // The commit id is still the request's (42): the saved copy is for it.
    const successor = native.uringServe(arena.base, 0, true);
    assert.equal(u32(arena.fd, slotAt(0) + STATE), REQUEST);
    const buf = Buffer.alloc(PAYLOAD + PAGE);
    const n = native.uringExchange(successor, null, buf);
    assert.equal(buf.readUInt32LE(4), 1, 'LOOKUP again, not the reply read as a request');
    assert.equal(buf.readBigUInt64LE(8), 42n);
    assert.equal(buf.subarray(40, n).toString(), 'meminfo\0', 'the name the reply had covered is back');
  });

  it('a second new arena in a process that has one is refused (EEXIST), not laid over it', () => {
    assert.throws(() => native.uringArena(-1, PAYLOAD, 1, 2), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
  });

  it('maps a kept arena again at the same address, and refuses an fd that is not one', () => {
    const again = native.uringArena(arena.fd);
    assert.deepEqual(again, { ...arena });
    const other = fs.openSync('/dev/null', 'r');
    try {
      assert.throws(() => native.uringArena(other), /not a FUSE ring arena/);
    } finally {
      fs.closeSync(other);
    }
  });
});
