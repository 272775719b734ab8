// Which host file each page-cached inode shows, for the FUSE ring holders (native kept-open.cc):
// with it, a holder answers an OPEN of an unchanged host /proc/sys setting itself, by reading the
// host file and comparing it with the inode's page record. Keyed by the inode's path hash (its
// low HASH_BITS bits: the same in every container's slot, so one entry serves them all); written
// once per path by whichever worker answers an OPEN of it first, never changed or removed (a path
// hash names one path). Entries of ENTRY_BYTES: state (0 free, 1 being written, 2 written), key
// low and high words, the path below a procfs root, NUL-terminated. A full probe run records
// nothing: those files' OPENs go on to sysbox-fs, as before.
import { HASH_MASK } from '../tree.js';

export const ENTRY_BYTES = 128;
/** Entries in the arena's index: several times the host's /proc/sys files (~600 here). */
export const HOST_FILES = 4096;
const PATH_MAX = ENTRY_BYTES - 12 - 1;
const PROBES = 16;
const FREE = 0, WRITING = 1, WRITTEN = 2;

export class HostFileIndex {
  private readonly ints: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly entries: number;
  /** Keys this worker has written or found, so a walk's OPENs look nothing up twice. */
  private readonly known = new Set<bigint>();

  constructor(buffer: ArrayBufferLike) {
    this.entries = Math.floor(buffer.byteLength / ENTRY_BYTES);
    this.ints = new Int32Array(buffer, 0, (this.entries * ENTRY_BYTES) / 4);
    this.bytes = new Uint8Array(buffer, 0, this.entries * ENTRY_BYTES);
  }

  /** Records that ino's content is procfs file path (relative to its root) read at offset 0. */
  note(ino: bigint, path: string): void {
    const key = ino & HASH_MASK;
    if (this.known.has(key) || this.entries === 0) return;
    const encoded = Buffer.from(path, 'utf8');
    if (encoded.length > PATH_MAX || encoded.includes(0)) return;
    const { lo, hi, run } = this.probe(key);
    for (const at of run) {
      const state = Atomics.load(this.ints, at);
      if (state === WRITTEN && this.ints[at + 1] === lo && this.ints[at + 2] === hi) break;
      if (state !== FREE || Atomics.compareExchange(this.ints, at, FREE, WRITING) !== FREE) continue;
      this.ints[at + 1] = lo;
      this.ints[at + 2] = hi;
      this.bytes.set(encoded, at * 4 + 12);
      this.bytes[at * 4 + 12 + encoded.length] = 0;
      Atomics.store(this.ints, at, WRITTEN);
      break;
    }
    this.known.add(key);
  }

  /** The path recorded for ino, or undefined (tests). */
  pathOf(ino: bigint): string | undefined {
    const { lo, hi, run } = this.probe(ino & HASH_MASK);
    for (const at of run) {
      const state = Atomics.load(this.ints, at);
      if (state === FREE) return undefined;
      if (state !== WRITTEN || this.ints[at + 1] !== lo || this.ints[at + 2] !== hi) continue;
      const start = at * 4 + 12;
      return Buffer.from(this.bytes.subarray(start, this.bytes.indexOf(0, start))).toString('utf8');
    }
    return undefined;
  }

  /** key's words, and the entries (their first int's index) a lookup visits in turn, as kept-open.cc's. */
  private probe(key: bigint): { lo: number; hi: number; run: number[] } {
    const first = Number((key ^ (key >> 20n)) & 0xffffffffn) % this.entries;
    const run: number[] = [];
    for (let i = 0; i < PROBES; i++) run.push(((first + i) % this.entries) * (ENTRY_BYTES / 4));
    return { lo: Number(key & 0xffffffffn) | 0, hi: Number(key >> 32n) | 0, run };
  }
}
