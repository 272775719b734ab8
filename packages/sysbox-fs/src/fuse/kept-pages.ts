// What the kernel may hold in its page cache for each page-cached file (VirtualFile.pageCached: the
// host-wide /proc/sys settings), shared by every FUSE worker through a SharedArrayBuffer. An OPEN
// answers FOPEN_KEEP_CACHE only when the fresh rendering equals the recorded one, so a kept page
// never rests on what one worker alone believes; a READ that refills an evicted page serves the
// recorded rendering, whose length is the inode's i_size; and attributes report that length, so a
// GETATTR or READDIRPLUS never changes i_size under kept pages (with FUSE_AUTO_INVAL_DATA a size
// change drops them). docs/design.md "Page-cached /proc/sys settings".
//
// Open handles are counted per entry (OPEN that keeps or refills: +1, its RELEASE: -1), so a record,
// and with it the kernel's pages and i_size, never changes while a handle that reads them is open:
// a reader in small chunks (dd bs=1) gets one rendering whole, as from the kernel's seq_file. An
// entry with open handles is never replaced by another inode's either.
//
// Layout: SETS sets of WAYS entries; an inode lives in one set (by its number), in any way. Each set
// has a sequence number (odd while a worker writes it): writers take the set by compare-and-swap,
// readers copy an entry and retry if the sequence moved. One writer per set keeps an inode in at
// most one way. A full set replaces a way; the inode that loses its record is then a miss at its
// next OPEN (the kernel drops its pages), which is always correct.

/**
 * Longest rendering kept: /proc/sys settings are at most 63 bytes on the development host,
 * /proc/uptime and /proc/loadavg about 30; longer ones stay direct I/O.
 */
export const KEPT_MAX = 108;
const WAYS = 4;
const SETS = 8192;
/** Bytes per entry: ino low and high words, length, open handles, version, content. */
const ENTRY = 128;
const HEADER = 20;
/** Bytes of the shared buffer: sequence numbers, the entries, then the generation. */
export const KEPT_PAGES_BYTES = SETS * 4 + SETS * WAYS * ENTRY + 4;

/** The index in the entries' Int32Array of way w of set: the entry's first word (ino low). */
function entryIndex(set: number, w: number): number {
  return ((set * WAYS + w) * ENTRY) / 4;
}

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
  /**
   * The file handle of counted opens: non-zero, and drawn anew for each buffer (each sysbox-fs
   * start), so a RELEASE of a handle a predecessor counted (FUSE connection adopted after a
   * restart) decrements nothing here. Direct I/O opens get 0.
   */
  readonly fh: bigint;

  constructor(buffer: SharedArrayBuffer) {
    if (buffer.byteLength < KEPT_PAGES_BYTES) throw new Error(`kept pages: ${buffer.byteLength} bytes, ${KEPT_PAGES_BYTES} needed`);
    this.seq = new Int32Array(buffer, 0, SETS);
    this.ints = new Int32Array(buffer, SETS * 4, (SETS * WAYS * ENTRY) / 4);
    this.bytes = new Uint8Array(buffer, SETS * 4, SETS * WAYS * ENTRY);
    const gen = new Int32Array(buffer, KEPT_PAGES_BYTES - 4, 1);
    Atomics.compareExchange(gen, 0, 0, (Math.floor(Math.random() * 0x7ffffffe) + 1) | 0);
    this.fh = BigInt(Atomics.load(gen, 0)) & 0xffffffffn;
  }

  /** ino's entry as an index into ints (its first word), or -1; under the set's lock or sequence. */
  private find(set: number, lo: number, hi: number): number {
    for (let w = 0; w < WAYS; w++) {
      const i = entryIndex(set, w);
      if (this.ints[i] === lo && this.ints[i + 1] === hi) return i;
    }
    return -1;
  }

  /** The rendering recorded for ino, or undefined if none is (never recorded, or replaced). */
  held(ino: bigint): Buffer | undefined {
    const set = setOf(ino);
    const [lo, hi] = words(ino);
    for (;;) {
      const before = Atomics.load(this.seq, set);
      if (before & 1) continue; // a writer is in the set: a few copies of ≤ 128 bytes
      let found: Buffer | undefined;
      const i = this.find(set, lo, hi);
      const len = i < 0 ? -1 : this.ints[i + 2]!;
      if (len >= 0 && len <= KEPT_MAX) found = Buffer.from(this.bytes.subarray(i * 4 + HEADER, i * 4 + HEADER + len));
      if (Atomics.load(this.seq, set) === before) return found;
    }
  }

  /**
   * Records content as what the kernel holds for ino with no handle counted, or forgets ino
   * (undefined, or too long to keep). Returns false if it could not (a full set of counted entries).
   */
  record(ino: bigint, content: Buffer | undefined): boolean {
    return this.update(ino, () => content === undefined || content.length > KEPT_MAX ? undefined : content, 0) !== 'direct';
  }

  /**
   * Answers an OPEN of ino whose fresh rendering is this (openAnswer), recording it if it refills,
   * and counts the handle unless it is direct I/O: one decision under the set's lock, so two
   * workers never both refill, nor one refill under the other's kept handle.
   */
  open(ino: bigint, rendering: Buffer): OpenAnswer {
    return this.openReplacing(ino, rendering).answer;
  }

  /** open(), and whether a refill replaced an earlier record (the kernel may still hold its page). */
  openReplacing(ino: bigint, rendering: Buffer): { answer: OpenAnswer; replacing: boolean } {
    let answer: OpenAnswer = 'direct';
    let replacing = false;
    const done = this.update(ino, (held, opens) => {
      answer = openAnswer(held, opens, rendering);
      replacing = held !== undefined;
      return answer === 'direct' ? held : rendering;
    }, 1);
    return done === 'direct' ? { answer: 'direct', replacing: false } : { answer, replacing };
  }

  /** A counted handle of ino closed (RELEASE); a handle this buffer did not count (fh) is ignored. */
  release(ino: bigint, fh: bigint): void {
    if (fh !== this.fh) return;
    const set = setOf(ino);
    const [lo, hi] = words(ino);
    this.lock(set);
    try {
      const i = this.find(set, lo, hi);
      const opens = i < 0 ? 0 : this.ints[i + 3]!;
      if (opens > 0) this.ints[i + 3] = opens - 1;
    } finally {
      Atomics.add(this.seq, set, 1);
    }
  }

  /**
   * A lone counted handle of ino asks for attributes (a read(2) once they are a second old): if
   * rendering differs from the record, it becomes the record (a new version) and true is returned,
   * so a reader that keeps the file open and reads it again from the start (procps 3.3's top:
   * lseek + read) is not shown its first rendering for good. Never with other handles counted.
   */
  refresh(ino: bigint, rendering: Buffer): boolean {
    if (rendering.length > KEPT_MAX) return false;
    const set = setOf(ino);
    const [lo, hi] = words(ino);
    this.lock(set);
    try {
      const i = this.find(set, lo, hi);
      if (i < 0 || this.ints[i + 3] !== 1) return false;
      const len = this.ints[i + 2]!;
      if (len === rendering.length && Buffer.from(this.bytes.buffer, this.bytes.byteOffset + i * 4 + HEADER, len).equals(rendering)) return false;
      this.ints[i + 2] = rendering.length;
      this.ints[i + 4] = (this.ints[i + 4]! + 1) | 0;
      this.bytes.set(rendering, i * 4 + HEADER);
      return true;
    } finally {
      Atomics.add(this.seq, set, 1);
    }
  }

  /** The version of ino's record (moves with each new rendering recorded), 0 if none. */
  version(ino: bigint): number {
    const set = setOf(ino);
    const [lo, hi] = words(ino);
    for (;;) {
      const before = Atomics.load(this.seq, set);
      if (before & 1) continue;
      const i = this.find(set, lo, hi);
      const v = i < 0 ? 0 : this.ints[i + 4]! >>> 0;
      if (Atomics.load(this.seq, set) === before) return v;
    }
  }

  /** Open handles counted for ino (tests, diagnostics). */
  opens(ino: bigint): number {
    const set = setOf(ino);
    const [lo, hi] = words(ino);
    const i = this.find(set, lo, hi);
    return i < 0 ? 0 : Atomics.load(this.ints, i + 3);
  }

  /**
   * Under the set's lock: decide(held, opens) gives the content ino's record is to have (undefined:
   * forget it, if no handle is counted). The same content counts count more handles; another content
   * starts a new count. 'direct' if nothing could be recorded (no way free of counted handles).
   */
  private update(ino: bigint, decide: (held: Buffer | undefined, opens: number) => Buffer | undefined, count: number): 'recorded' | 'direct' {
    const set = setOf(ino);
    const [lo, hi] = words(ino);
    this.lock(set);
    try {
      let i = -1;
      const uncounted: number[] = [];
      for (let w = 0; w < WAYS; w++) {
        const at = entryIndex(set, w);
        if (this.ints[at] === lo && this.ints[at + 1] === hi) { i = at; break; }
        if (this.ints[at + 3] === 0) uncounted.push(at);
      }
      let held: Buffer | undefined;
      let opens = 0;
      if (i >= 0) {
        const len = this.ints[i + 2]!;
        opens = this.ints[i + 3]!;
        if (len >= 0 && len <= KEPT_MAX) held = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + i * 4 + HEADER, len);
      }
      const content = decide(held, opens);
      if (content === undefined) {
        // Forgotten only if no handle reads it; a counted record stays until its handles close.
        if (i >= 0 && opens === 0) this.ints.fill(0, i, i + 4); // the version stays: a new record moves it on
        return 'direct';
      }
      if (held !== undefined && content !== held && held.equals(content)) {
        this.ints[i + 3] = opens + count;
        return 'recorded';
      }
      if (content === held) { // decide kept the record as it is (direct I/O beside counted handles)
        return 'direct';
      }
      if (i >= 0 && opens > 0) return 'direct';
      // A full set gives up an uncounted way at random: which inode loses its record only costs that
      // one a miss; a set whose every way has open handles records nothing (direct I/O).
      if (i < 0) {
        if (uncounted.length === 0) return 'direct';
        i = uncounted.find((at) => this.ints[at] === 0 && this.ints[at + 1] === 0)
          ?? uncounted[Math.floor(Math.random() * uncounted.length)]!;
      }
      this.ints[i] = lo;
      this.ints[i + 1] = hi;
      this.ints[i + 2] = content.length;
      this.ints[i + 3] = count;
      this.ints[i + 4] = (this.ints[i + 4]! + 1) | 0;
      this.bytes.set(content, i * 4 + HEADER);
      return 'recorded';
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
 * How an OPEN of a page-cached file is answered, given what the kernel may hold (held), how many
 * counted handles read it (opens) and a fresh rendering: "keep" (FOPEN_KEEP_CACHE: the kernel's
 * page is this rendering, or a refill will serve it), "refill" (record it, grow i_size to its
 * length, and let the kernel drop its pages at open: the next read fetches it), or "direct" (too
 * long to keep, or another rendering is being read through open handles: direct I/O with its own
 * rendering, as other files).
 */
export type OpenAnswer = 'keep' | 'refill' | 'direct';

export function openAnswer(held: Buffer | undefined, opens: number, rendering: Buffer): OpenAnswer {
  if (rendering.length > KEPT_MAX) return 'direct';
  if (held !== undefined && held.equals(rendering)) return 'keep';
  return opens > 0 ? 'direct' : 'refill';
}
