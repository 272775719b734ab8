// Hands out exclusive, equally sized id ranges from one pool. Pure: the set of ranges in use is
// rebuilt from the persisted container records at start-up, so there is no second source of truth.

export interface Pool { start: number; count: number }

export class PoolExhaustedError extends Error {}

export class RangeAllocator {
  private readonly used = new Set<number>();

  constructor(private readonly pool: Pool, private readonly rangeSize: number) {
    if (pool.count < rangeSize) {
      throw new Error(`subid pool of ${pool.count} ids is smaller than one container range (${rangeSize})`);
    }
  }

  get capacity(): number { return Math.floor(this.pool.count / this.rangeSize); }
  get free(): number { return this.capacity - this.used.size; }

  /** Marks a range (by its first id) as taken; ids outside the pool are ignored. */
  reserve(start: number): void {
    const slot = this.slotOf(start);
    if (slot !== undefined) this.used.add(slot);
  }

  release(start: number): void {
    const slot = this.slotOf(start);
    if (slot !== undefined) this.used.delete(slot);
  }

  /** Lowest free range's first id. */
  allocate(): number {
    for (let slot = 0; slot < this.capacity; slot++) {
      if (!this.used.has(slot)) {
        this.used.add(slot);
        return this.pool.start + slot * this.rangeSize;
      }
    }
    throw new PoolExhaustedError(
      `subid pool exhausted: all ${this.capacity} ranges of ${this.rangeSize} ids starting at ${this.pool.start} are in use`,
    );
  }

  private slotOf(start: number): number | undefined {
    const off = start - this.pool.start;
    if (off < 0 || off % this.rangeSize !== 0) return undefined;
    const slot = off / this.rangeSize;
    return slot < this.capacity ? slot : undefined;
  }
}
