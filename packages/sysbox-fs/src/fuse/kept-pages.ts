// What the kernel may hold in its page cache for each page-cached file (VirtualFile.pageCached: the
// host-wide /proc/sys settings), shared by every FUSE worker through a SharedArrayBuffer. An OPEN
// answers FOPEN_KEEP_CACHE only when the fresh rendering equals the recorded one, so a kept page
// never rests on what one worker alone believes; a READ that refills an evicted page serves the
// recorded rendering, whose length is the inode's i_size; and attributes report that length, so a
// GETATTR or READDIRPLUS never changes i_size under kept pages (with FUSE_AUTO_INVAL_DATA a size
// change drops them). docs/design.md "Page-cached /proc/sys settings".
//
// Layout: SETS sets of WAYS entries; an inode lives in one set (by its number), in any way. Each set
// has a sequence number (odd while a worker writes it): writers take the set by compare-and-swap,
// readers copy an entry and retry if the sequence moved. One writer per set keeps an inode in at
// most one way. A full set replaces a way; the inode that loses its record is then a miss at its
// next OPEN (the kernel drops its pages), which is always correct.

/** Longest rendering kept: /proc/sys settings are at most 63 bytes on the development host; longer ones stay direct I/O. */
export const KEPT_MAX = 116;
const WAYS = 4;
const SETS = 8192;
/** Bytes per entry: ino low and high words, length, content. */
const ENTRY = 128;
const HEADER = 12;
/** Bytes of the shared buffer: sequence numbers, then the entries. */
export const KEPT_PAGES_BYTES = SETS * 4 + SETS * WAYS * ENTRY;

/** The set an inode lives in: slot bits (above bit 40, slotted-tree.ts) folded into the path hash. */
function setOf(ino: bigint): number {
  return Number((ino ^ (ino >> 40n) ^ (ino >> 53n)) & BigInt(SETS - 1));
}

function words(ino: bigint): [number, number] {
  return [Number(ino & 0xffffffffn) | 0, Number((ino >> 32n) & 0xffffffffn) | 0];
}

export class KeptPages {
  private readonly seq: Int32Array;
  private readonly ints: Int32Array;
  private readonly bytes: Uint8Array;

  constructor(buffer: SharedArrayBuffer) {
    if (buffer.byteLength < KEPT_PAGES_BYTES) throw new Error(`kept pages: ${buffer.byteLength} bytes, ${KEPT_PAGES_BYTES} needed`);
    this.seq = new Int32Array(buffer, 0, SETS);
    this.ints = new Int32Array(buffer, SETS * 4, (SETS * WAYS * ENTRY) / 4);
    this.bytes = new Uint8Array(buffer, SETS * 4, SETS * WAYS * ENTRY);
  }

  /** The rendering recorded for ino, or undefined if none is (never recorded, or replaced). */
  held(ino: bigint): Buffer | undefined {
    const set = setOf(ino);
    const [lo, hi] = words(ino);
    for (;;) {
      const before = Atomics.load(this.seq, set);
      if (before & 1) continue; // a writer is in the set: a few copies of ≤ 128 bytes
      let found: Buffer | undefined;
      for (let w = 0; w < WAYS; w++) {
        const at = (set * WAYS + w) * ENTRY;
        const i = at / 4;
        if (this.ints[i] !== lo || this.ints[i + 1] !== hi) continue;
        const len = this.ints[i + 2]!;
        if (len < 0 || len > KEPT_MAX) break;
        found = Buffer.from(this.bytes.subarray(at + HEADER, at + HEADER + len));
        break;
      }
      if (Atomics.load(this.seq, set) === before) return found;
    }
  }

  /** Records content as what the kernel holds for ino, or forgets ino (undefined, or too long to keep). */
  record(ino: bigint, content: Buffer | undefined): void {
    const set = setOf(ino);
    const [lo, hi] = words(ino);
    this.lock(set);
    try {
      let way = -1;
      let free = -1;
      for (let w = 0; w < WAYS; w++) {
        const i = ((set * WAYS + w) * ENTRY) / 4;
        if (this.ints[i] === lo && this.ints[i + 1] === hi) { way = w; break; }
        if (free < 0 && this.ints[i] === 0 && this.ints[i + 1] === 0) free = w;
      }
      const keep = content !== undefined && content.length <= KEPT_MAX;
      if (!keep) {
        if (way >= 0) this.ints.fill(0, ((set * WAYS + way) * ENTRY) / 4, ((set * WAYS + way) * ENTRY) / 4 + 3);
        return;
      }
      // A full set gives up a way at random: which inode loses its record only costs that one a miss.
      if (way < 0) way = free >= 0 ? free : Math.floor(Math.random() * WAYS);
      const at = (set * WAYS + way) * ENTRY;
      const i = at / 4;
      this.ints[i] = lo;
      this.ints[i + 1] = hi;
      this.ints[i + 2] = content.length;
      this.bytes.set(content, at + HEADER);
    } finally {
      Atomics.add(this.seq, set, 1);
    }
  }

  private lock(set: number): void {
    for (;;) {
      const s = Atomics.load(this.seq, set);
      if ((s & 1) === 0 && Atomics.compareExchange(this.seq, set, s, s + 1) === s) return;
    }
  }
}

/**
 * How an OPEN of a page-cached file is answered, given what the kernel may hold (held) and a fresh
 * rendering: "keep" (FOPEN_KEEP_CACHE: the kernel's page is this rendering, or a refill will serve
 * it), "refill" (record it, grow i_size to its length, and let the kernel drop its pages at open:
 * the next read fetches it), or "direct" (too long to keep: direct I/O, as other files).
 */
export type OpenAnswer = 'keep' | 'refill' | 'direct';

export function openAnswer(held: Buffer | undefined, rendering: Buffer): OpenAnswer {
  if (rendering.length > KEPT_MAX) return 'direct';
  return held !== undefined && held.equals(rendering) ? 'keep' : 'refill';
}
