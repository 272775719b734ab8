// What the kernel may hold in its page cache for each page-cached file (VirtualFile.pageCached: the
// /proc/sys settings, some /proc files), shared by every FUSE worker through a SharedArrayBuffer;
// one table for short renderings, one for renderings up to a page (VirtualFile.longRendering). An OPEN
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
// Layout: a table's sets of WAYS entries; an inode lives in one set (by its number), in any way. Each set
// has a sequence number (odd while a worker writes it): writers take the set by compare-and-swap,
// readers copy an entry and retry if the sequence moved. One writer per set keeps an inode in at
// most one way. A full set replaces a way; the inode that loses its record is then a miss at its
// next OPEN (the kernel drops its pages), which is always correct.
//
// With FUSE over io_uring the short table lives in the ring arena, and the keeper's holder threads
// (native kept-open.cc) take sets too, to count an OPEN of an unchanged host setting they answer
// themselves ("keep" only; they never write a record). Their lock value lies 2^30 beyond a
// worker's, so uringKeptRepair tells whose lock a dead process left. This layout is theirs too.

/** A table's size: sets of WAYS entries, each entry (header and content) this many bytes. */
export interface TableShape {
  readonly sets: number;
  readonly entryBytes: number;
}
const WAYS = 4;
/** Bytes at the head of an entry: ino low and high words, length, open handles, version, when. */
const HEADER = 24;
/** The words of an entry's head, as indices from its first (the entry's index in ints). */
const LEN = 2, OPENS = 3, VERSION = 4, WHEN = 5;

/**
 * A record at least this old (ms) is renewed by a GETATTR of any counted handle, not only a lone
 * one: two processes each keeping the file open (two `top`s) would otherwise both read their
 * first rendering for as long as both stay open.
 */
export const SHARED_REFRESH_MS = 1000;

/**
 * Short renderings: the /proc/sys settings (at most 63 bytes on the development host), /proc/uptime
 * and /proc/loadavg (about 30); many inodes (every container's settings).
 */
export const SHORT_TABLE: TableShape = { sets: 8192, entryBytes: 128 };
/**
 * Renderings up to a page (VirtualFile.longRendering: /proc/meminfo, stat, cpuinfo, diskstats):
 * a few inodes per container. 4 MiB of shared memory, touched only as far as it is used.
 */
export const LONG_TABLE: TableShape = { sets: 256, entryBytes: 4096 };

/** The longest rendering a table of this shape keeps; longer ones stay direct I/O. */
export function keptMax(shape: TableShape): number {
  return shape.entryBytes - HEADER;
}
/** The short table's: renderings longer than this stay direct I/O unless their file is longRendering. */
export const KEPT_MAX = keptMax(SHORT_TABLE);

/** Bytes of a table's shared buffer: sequence numbers, the entries, then the generation. */
export function keptPagesBytes(shape: TableShape): number {
  return shape.sets * 4 + shape.sets * WAYS * shape.entryBytes + 4;
}
export const KEPT_PAGES_BYTES = keptPagesBytes(SHORT_TABLE);

function words(ino: bigint): [number, number] {
  return [Number(ino & 0xffffffffn) | 0, Number((ino >> 32n) & 0xffffffffn) | 0];
}

export class KeptPages {
  private readonly seq: Int32Array;
  private readonly ints: Int32Array;
  private readonly bytes: Uint8Array;
  /**
   * The file handle of counted opens: non-zero, and drawn anew for each buffer, so a RELEASE of a
   * handle a predecessor counted in a buffer of its own (FUSE connection adopted after a restart)
   * decrements nothing here. The short table in the ring arena (native uringKeptTable) outlives a
   * restart with its records, counts and fh, as the kernel's pages do. Direct I/O opens get 0.
   */
  readonly fh: bigint;
  /** The longest rendering kept (keptMax of the shape). */
  readonly max: number;
  private readonly sets: number;
  private readonly entryBytes: number;

  /** now: a millisecond clock shared by the threads (Date.now; tests pass their own). */
  /** buffer: a SharedArrayBuffer, or the ring arena's table (shared memory in an ArrayBuffer of each thread's). */
  constructor(buffer: ArrayBufferLike, shape: TableShape = SHORT_TABLE, private readonly now: () => number = Date.now) {
    const bytes = keptPagesBytes(shape);
    if (buffer.byteLength < bytes) throw new Error(`kept pages: ${buffer.byteLength} bytes, ${bytes} needed`);
    this.sets = shape.sets;
    this.entryBytes = shape.entryBytes;
    this.max = keptMax(shape);
    this.seq = new Int32Array(buffer, 0, shape.sets);
    this.ints = new Int32Array(buffer, shape.sets * 4, (shape.sets * WAYS * shape.entryBytes) / 4);
    this.bytes = new Uint8Array(buffer, shape.sets * 4, shape.sets * WAYS * shape.entryBytes);
    const gen = new Int32Array(buffer, bytes - 4, 1);
    Atomics.compareExchange(gen, 0, 0, (Math.floor(Math.random() * 0x7ffffffe) + 1) | 0);
    this.fh = BigInt(Atomics.load(gen, 0)) & 0xffffffffn;
  }

  /** The index in ints of way w of set: the entry's first word (ino low). */
  private entryIndex(set: number, w: number): number {
    return ((set * WAYS + w) * this.entryBytes) / 4;
  }

  /** The set an inode lives in: slot bits (above bit 40, slotted-tree.ts) folded into the path hash. */
  private setOf(ino: bigint): number {
    return Number((ino ^ (ino >> 40n) ^ (ino >> 53n)) & BigInt(this.sets - 1));
  }

  /** ino's entry as an index into ints (its first word), or -1; under the set's lock or sequence. */
  private find(set: number, lo: number, hi: number): number {
    for (let w = 0; w < WAYS; w++) {
      const i = this.entryIndex(set, w);
      if (this.ints[i] === lo && this.ints[i + 1] === hi) return i;
    }
    return -1;
  }

  /** The rendering recorded for ino, or undefined if none is (never recorded, or replaced). */
  held(ino: bigint): Buffer | undefined {
    const set = this.setOf(ino);
    const [lo, hi] = words(ino);
    for (;;) {
      const before = Atomics.load(this.seq, set);
      if (before & 1) continue; // a writer is in the set: a few copies of ≤ 128 bytes
      let found: Buffer | undefined;
      const i = this.find(set, lo, hi);
      const len = i < 0 ? -1 : this.ints[i + LEN]!;
      if (len >= 0 && len <= this.max) found = Buffer.from(this.bytes.subarray(i * 4 + HEADER, i * 4 + HEADER + len));
      if (Atomics.load(this.seq, set) === before) return found;
    }
  }

  /**
   * Records content as what the kernel holds for ino with no handle counted, or forgets ino
   * (undefined, or too long to keep). Returns false if it could not (a full set of counted entries).
   */
  record(ino: bigint, content: Buffer | undefined): boolean {
    return this.update(ino, () => content === undefined || content.length > this.max ? undefined : content, 0) !== 'direct';
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
      answer = openAnswer(held, opens, rendering, this.max);
      replacing = held !== undefined;
      return answer === 'direct' ? held : rendering;
    }, 1);
    return done === 'direct' ? { answer: 'direct', replacing: false } : { answer, replacing };
  }

  /** A counted handle of ino closed (RELEASE); a handle this buffer did not count (fh) is ignored. */
  release(ino: bigint, fh: bigint): void {
    if (fh !== this.fh) return;
    const set = this.setOf(ino);
    const [lo, hi] = words(ino);
    this.lock(set);
    try {
      const i = this.find(set, lo, hi);
      const opens = i < 0 ? 0 : this.ints[i + OPENS]!;
      if (opens > 0) this.ints[i + OPENS] = opens - 1;
    } finally {
      Atomics.add(this.seq, set, 1);
    }
  }

  /**
   * A counted handle of ino asks for attributes (a read(2) once they are older than their ttl): if
   * it is the only one counted, or the record is SHARED_REFRESH_MS old, and rendering differs from
   * the record, it becomes the record (a new version) and true is returned, so a reader that keeps
   * the file open and reads it again from the start (procps's top and vmstat: lseek + read) is not
   * shown its first rendering for good. A reader in small chunks beside it may then see the new
   * rendering from where it is (the kernel drops the pages): never within a second of the record.
   */
  refresh(ino: bigint, rendering: Buffer): boolean {
    if (rendering.length > this.max) return false;
    const set = this.setOf(ino);
    const [lo, hi] = words(ino);
    this.lock(set);
    try {
      const i = this.find(set, lo, hi);
      const opens = i < 0 ? 0 : this.ints[i + OPENS]!;
      if (opens < 1 || (opens > 1 && ((this.now() - this.ints[i + WHEN]!) | 0) < SHARED_REFRESH_MS)) return false;
      const len = this.ints[i + LEN]!;
      if (len === rendering.length && Buffer.from(this.bytes.buffer, this.bytes.byteOffset + i * 4 + HEADER, len).equals(rendering)) {
        this.ints[i + WHEN] = this.now() | 0; // still the current rendering as of now
        return false;
      }
      this.ints[i + LEN] = rendering.length;
      this.ints[i + VERSION] = (this.ints[i + VERSION]! + 1) | 0;
      this.ints[i + WHEN] = this.now() | 0;
      this.bytes.set(rendering, i * 4 + HEADER);
      return true;
    } finally {
      Atomics.add(this.seq, set, 1);
    }
  }

  /** The version of ino's record (moves with each new rendering recorded), 0 if none. */
  version(ino: bigint): number {
    const set = this.setOf(ino);
    const [lo, hi] = words(ino);
    for (;;) {
      const before = Atomics.load(this.seq, set);
      if (before & 1) continue;
      const i = this.find(set, lo, hi);
      const v = i < 0 ? 0 : this.ints[i + VERSION]! >>> 0;
      if (Atomics.load(this.seq, set) === before) return v;
    }
  }

  /** Open handles counted for ino (tests, diagnostics). */
  opens(ino: bigint): number {
    const set = this.setOf(ino);
    const [lo, hi] = words(ino);
    const i = this.find(set, lo, hi);
    return i < 0 ? 0 : Atomics.load(this.ints, i + OPENS);
  }

  /**
   * Under the set's lock: decide(held, opens) gives the content ino's record is to have (undefined:
   * forget it, if no handle is counted). The same content counts count more handles; another content
   * starts a new count. 'direct' if nothing could be recorded (no way free of counted handles).
   */
  private update(ino: bigint, decide: (held: Buffer | undefined, opens: number) => Buffer | undefined, count: number): 'recorded' | 'direct' {
    const set = this.setOf(ino);
    const [lo, hi] = words(ino);
    this.lock(set);
    try {
      let i = -1;
      const uncounted: number[] = [];
      for (let w = 0; w < WAYS; w++) {
        const at = this.entryIndex(set, w);
        if (this.ints[at] === lo && this.ints[at + 1] === hi) { i = at; break; }
        if (this.ints[at + OPENS] === 0) uncounted.push(at);
      }
      let held: Buffer | undefined;
      let opens = 0;
      if (i >= 0) {
        const len = this.ints[i + LEN]!;
        opens = this.ints[i + OPENS]!;
        if (len >= 0 && len <= this.max) held = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + i * 4 + HEADER, len);
      }
      const content = decide(held, opens);
      if (content === undefined) {
        // Forgotten only if no handle reads it; a counted record stays until its handles close.
        if (i >= 0 && opens === 0) this.ints.fill(0, i, i + VERSION); // the version stays: a new record moves it on
        return 'direct';
      }
      if (held !== undefined && content !== held && held.equals(content)) {
        this.ints[i + OPENS] = opens + count;
        this.ints[i + WHEN] = this.now() | 0; // still the current rendering as of now
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
      this.ints[i + LEN] = content.length;
      this.ints[i + OPENS] = count;
      this.ints[i + VERSION] = (this.ints[i + VERSION]! + 1) | 0;
      this.ints[i + WHEN] = this.now() | 0;
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

export function openAnswer(held: Buffer | undefined, opens: number, rendering: Buffer, max = KEPT_MAX): OpenAnswer {
  if (rendering.length > max) return 'direct';
  if (held !== undefined && held.equals(rendering)) return 'keep';
  return opens > 0 ? 'direct' : 'refill';
}
