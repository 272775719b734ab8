import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pickSlot, SLOT_REST_MS } from '../src/daemon/slots.js';

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
