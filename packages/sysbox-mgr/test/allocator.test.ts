import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PoolExhaustedError, RangeAllocator } from '../src/allocator.js';

describe('RangeAllocator', () => {
  it('hands out disjoint ranges, lowest first, and reuses released ones', () => {
    const a = new RangeAllocator({ start: 165536, count: 65536 * 3 }, 65536);
    assert.equal(a.allocate(), 165536);
    assert.equal(a.allocate(), 231072);
    a.release(165536);
    assert.equal(a.allocate(), 165536);
    assert.equal(a.allocate(), 296608);
    assert.equal(a.free, 0);
  });

  it('fails clearly when the pool is exhausted', () => {
    const a = new RangeAllocator({ start: 1000, count: 65536 }, 65536);
    a.allocate();
    assert.throws(() => a.allocate(), (e: Error) => e instanceof PoolExhaustedError && /exhausted/.test(e.message));
  });

  it('rebuilds its view from reserved ranges (state reload)', () => {
    const a = new RangeAllocator({ start: 0, count: 65536 * 4 }, 65536);
    a.reserve(0);
    a.reserve(65536 * 2);
    a.reserve(123); // not a range start: ignored
    assert.equal(a.allocate(), 65536);
    assert.equal(a.allocate(), 65536 * 3);
  });

  it('refuses a pool smaller than one range', () => {
    assert.throws(() => new RangeAllocator({ start: 0, count: 100 }, 65536), /smaller than one container range/);
  });
});
