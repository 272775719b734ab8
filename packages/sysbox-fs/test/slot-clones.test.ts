import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { SlotClones } from '../src/daemon/slot-clones.js';

/** Real fds (of /dev/null) stand in for clones, so that closing them can be checked. */
function harness(next: { slot: number | undefined }, failFor?: number) {
  const made: { slot: number; fds: number[] }[] = [];
  const errors: string[] = [];
  const clones = new SlotClones(
    (slot) => {
      if (slot === failFor) throw new Error(`slot ${slot}: ENOENT`);
      const fds = [fs.openSync('/dev/null', 'r'), fs.openSync('/dev/null', 'r')];
      made.push({ slot, fds });
      return fds;
    },
    () => next.slot,
    (e) => errors.push(e.message),
  );
  return { clones, made, errors };
}

const isOpen = (fd: number): boolean => {
  try {
    fs.fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};

describe('SlotClones: the next Register\'s clones, made ahead', () => {
  it('hands the clones made for the slot asked for, once', () => {
    const { clones, made } = harness({ slot: 3 });
    clones.prepareNow();
    assert.equal(made.length, 1);
    assert.deepEqual(clones.take(3), made[0]!.fds);
    assert.equal(clones.take(3), undefined, 'taken already: the next Register clones its own');
    for (const fd of made[0]!.fds) fs.closeSync(fd);
  });

  it('closes clones made for another slot than the one Register got, and hands none', () => {
    const { clones, made } = harness({ slot: 3 });
    clones.prepareNow();
    assert.equal(clones.take(5), undefined);
    assert.ok(made[0]!.fds.every((fd) => !isOpen(fd)));
  });

  it('keeps clones still right for the next slot, and replaces them when it changes', () => {
    const next = { slot: 1 as number | undefined };
    const { clones, made } = harness(next);
    clones.prepareNow();
    clones.prepareNow();
    assert.equal(made.length, 1, 'same slot: not cloned again');
    next.slot = 2;
    clones.prepareNow();
    assert.equal(made.length, 2);
    // Closed before the new ones were opened, which may have been given the same numbers.
    assert.ok(made[0]!.fds.every((fd) => !isOpen(fd) || made[1]!.fds.includes(fd)), 'the first slot\'s closed');
    assert.equal(new Set(made[1]!.fds).size, 2);
    next.slot = undefined;
    clones.prepareNow();
    assert.ok(made[1]!.fds.every((fd) => !isOpen(fd)), 'no slot free: none kept');
  });

  it('reports a failed clone and keeps nothing; close() closes what was made', () => {
    const { clones, errors } = harness({ slot: 4 }, 4);
    clones.prepareNow();
    assert.deepEqual(errors, ['slot 4: ENOENT']);
    assert.equal(clones.take(4), undefined);
    const h = harness({ slot: 0 });
    h.clones.prepareNow();
    h.clones.close();
    assert.ok(h.made[0]!.fds.every((fd) => !isOpen(fd)));
  });

  it('prepareSoon clones after the delay, not before', async () => {
    const { clones, made } = harness({ slot: 0 });
    clones.prepareSoon(20);
    assert.equal(made.length, 0);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(made.length, 1);
    clones.close();
  });
});
