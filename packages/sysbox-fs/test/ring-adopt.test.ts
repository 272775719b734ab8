// A holder starting where another died (native fuse-uring.cc, AdoptSlots) without a kernel ring:
// the test lays out slots as a dead holder could have left them, starts a holder on an fd that is
// no FUSE connection (the arena's memfd: its ring commands fail, so it ends the queue right after
// adopting; not /dev/null, whose ring commands succeed), and checks what it made of each slot. A file of its own: a process holds one arena, once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as native from '@sysbox/native';
import { COMMIT_ID, ENDED, IN_KERNEL, PAGE, PAYLOAD, put, REPLIED, REPLY_FOR, REQUEST, REQUEST_SEQ, slotAt, STATE, u32 } from './fixtures/ring-arena.js';

/** A slot as a dead holder left it: its state, the commit id the kernel wrote last, and the id last replied to. */
function leave(fd: number, k: number, state: number, commitId: bigint, replyFor: bigint): void {
  put(fd, slotAt(k) + STATE, state);
  put(fd, slotAt(k) + COMMIT_ID, commitId);
  put(fd, slotAt(k) + REPLY_FOR, replyFor);
}

describe('FUSE ring slots a dead holder left (holder side)', () => {
  it('marks a request the dead holder received but never marked, and re-arms the rest', () => {
    const arena = native.uringArena(-1, PAYLOAD, 1, 4);
    // Received (the kernel wrote commit id 77) but never marked: the case that left a reader waiting.
    leave(arena.fd, 0, IN_KERNEL, 77n, 55n);
    // Replied to and committed, waiting in the kernel: a new entry, nothing to serve.
    leave(arena.fd, 1, IN_KERNEL, 60n, 60n);
    // Its commit went through and the kernel gave it request 91 before the holder saw the CQE.
    leave(arena.fd, 2, REPLIED, 91n, 90n);
    // Replied to, its commit maybe never sent: committed again, not served.
    leave(arena.fd, 3, REPLIED, 93n, 93n);
    const seq = u32(arena.fd, REQUEST_SEQ);
    native.uringHold(arena.fd, arena.base);
    // uringHold returns once the holder has submitted; its failed commands end the queue just after.
    for (let i = 0; i < 100 && u32(arena.fd, ENDED) !== 1; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    assert.equal(u32(arena.fd, ENDED), 1, 'the holder ended the queue when its ring commands failed');
    assert.equal(u32(arena.fd, slotAt(0) + STATE), REQUEST, 'a received, unmarked request goes to the server');
    assert.equal(u32(arena.fd, slotAt(2) + STATE), REQUEST, 'a request received after the commit goes to the server');
    assert.equal(u32(arena.fd, REQUEST_SEQ), seq + 2 + 1, 'each marked request moves requestSeq on, and so does the end of the queue');
    assert.equal(u32(arena.fd, slotAt(1) + STATE), IN_KERNEL);
    // Its commit was submitted (and failed: no FUSE connection), so as far as the holder knows it waits in the kernel.
    assert.equal(u32(arena.fd, slotAt(3) + STATE), IN_KERNEL, 'a re-sent commit turns the slot IN_KERNEL once submitted');

    // The holder ended the queue when its ring commands failed; the marked requests are still served, then the end is told.
    const server = native.uringServe(arena.base, 0, false);
    const buf = Buffer.alloc(PAYLOAD + PAGE);
    for (let served = 0; served < 2; served++) {
      assert.ok(native.uringExchange(server, null, buf) > 0, 'the two marked requests are handed to the server');
    }
    assert.equal(native.uringExchange(server, null, buf), -107 /* ENOTCONN */, 'then the ended queue says so');
  });
});
