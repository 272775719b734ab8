// The open_tree clones Register moves into a new container, made ahead for the slot the next
// Register will pick. Made at Register they cost 1.3-5 ms of every create (measured, 14 clones):
// a slot the kernel has not met is looked up through FUSE, a round trip per name. Made while the
// daemon is idle they cost the create nothing; a Register given another slot than the one made
// ahead (a resting slot came free meanwhile) clones its own, as before.
import fs from 'node:fs';

/** After a Register, how long to wait before cloning for the next: its reply goes out first. */
export const PREPARE_DELAY_MS = 50;

export class SlotClones {
  private ready?: { slot: number; fds: number[] };
  private timer?: NodeJS.Timeout;

  /**
   * clone: the clones of one slot's sources, in bind order (throws on failure, leaving none open).
   * nextSlot: the slot the next Register would pick now (undefined: none free).
   */
  constructor(
    private readonly clone: (slot: number) => number[],
    private readonly nextSlot: () => number | undefined,
    private readonly onError: (err: Error) => void,
  ) {}

  /** The clones made ahead for slot, now the caller's to move and close; undefined if none are. */
  take(slot: number): number[] | undefined {
    const r = this.ready;
    this.ready = undefined;
    if (r?.slot === slot) return r.fds;
    if (r) closeAll(r.fds);
    return undefined;
  }

  /** Clones for the next slot after delayMs, replacing any made before. */
  prepareSoon(delayMs = PREPARE_DELAY_MS): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.prepareNow(), delayMs);
    this.timer.unref();
  }

  prepareNow(): void {
    this.timer = undefined;
    const slot = this.nextSlot();
    if (this.ready?.slot === slot) return;
    this.drop();
    if (slot === undefined) return;
    try {
      this.ready = { slot, fds: this.clone(slot) };
    } catch (e) {
      this.onError(e as Error);
    }
  }

  /** Closes what was made ahead (before unmounting: each clone holds the mount). */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.drop();
  }

  private drop(): void {
    if (this.ready) closeAll(this.ready.fds);
    this.ready = undefined;
  }
}

function closeAll(fds: readonly number[]): void {
  for (const fd of fds) fs.closeSync(fd);
}
