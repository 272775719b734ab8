import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickSlot, restingAsWallClock, restingFromWallClock, SLOT_REST_MS } from '../src/daemon/slots.js';

describe('pickSlot: a freed slot rests before the next container gets it', () => {
  it('takes the lowest slot never freed or rested, else the one freed longest ago, else none', () => {
    const now = 100_000;
    assert.equal(pickSlot(8, new Set(), new Map(), now), 0);
    assert.equal(pickSlot(8, new Set([0, 1]), new Map(), now), 2);
    // 0 freed a moment ago: 1 (never used) goes first.
    assert.equal(pickSlot(8, new Set(), new Map([[0, now - 10]]), now), 1);
    assert.equal(pickSlot(8, new Set(), new Map([[0, now - SLOT_REST_MS]]), now), 0, 'rested');
    // Every free slot freed recently: the one freed longest ago.
    const freed = new Map([[1, now - 30], [2, now - 500], [3, now - 20]]);
    assert.equal(pickSlot(4, new Set([0]), freed, now), 2);
    assert.equal(pickSlot(2, new Set([0, 1]), new Map(), now), undefined);
  });
});

describe('the slots\' rest across a sysbox-fs restart (wall clock on disk)', () => {
  it('keeps only slots still resting, and gives them back as the same age in a new process', () => {
    // Old process: performance.now() 50 s in, wall clock 1_700_000_000_000.
    const freed = new Map([[2, 50_000 - 3_000], [5, 50_000 - SLOT_REST_MS - 1], [7, 50_000 - 10]]);
    const onDisk = restingAsWallClock(freed, 50_000, 1_700_000_000_000);
    assert.deepEqual(onDisk, { 2: 1_700_000_000_000 - 3_000, 7: 1_700_000_000_000 - 10 }, 'slot 5 has rested: not kept');
    // New process 2 s later (wall clock), its performance.now() at 400 ms.
    const back = restingFromWallClock(JSON.parse(JSON.stringify(onDisk)) as Record<string, number>, 400, 1_700_000_002_000);
    assert.deepEqual([...back.keys()].sort(), [2, 7]);
    assert.equal(400 - back.get(2)!, 5_000, 'freed 5 s ago now');
    // So the next container does not get them: 0 has never been freed.
    assert.equal(pickSlot(8, new Set([0, 1]), back, 400), 3);
    // Once rested (12 s later), they are forgotten.
    assert.equal(restingFromWallClock(onDisk, 400, 1_700_000_012_000).size, 0);
  });

  it('ignores what is not a slot and a time', () => {
    assert.equal(restingFromWallClock({ x: 1, '-1': 5, 3: Number.NaN } as unknown as Record<string, number>, 10, 20).size, 0);
  });
});
