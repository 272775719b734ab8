// The Linux FUSE kernel protocol (include/uapi/linux/fuse.h), pure encode/decode: no I/O, no
// file-tree knowledge. Speaking it directly (rather than through libfuse) is what lets every request
// reach JS with the caller's host pid/uid/gid, which tells which container is reading.
// All integers are little-endian host order; Linux on x86-64/arm64 is little-endian.

/** Protocol major version; the kernel refuses anything else. */
export const FUSE_KERNEL_VERSION = 7;
/**
 * Newest minor whose semantics we implement. Struct layouts used here are fixed since 7.9 and later
 * minors only add opt-in features, so replying min(kernel, this) keeps the kernel from expecting
 * anything we do not know about.
 */
export const FUSE_KERNEL_MINOR_VERSION = 31;
/** The kernel never sends a request bigger than max_write + headers, but refuses reads into buffers below this. */
export const FUSE_MIN_READ_BUFFER = 8192;

export const Opcode = {
  LOOKUP: 1,
  FORGET: 2,
  GETATTR: 3,
  SETATTR: 4,
  READLINK: 5,
  OPEN: 14,
  READ: 15,
  WRITE: 16,
  STATFS: 17,
  RELEASE: 18,
  FSYNC: 20,
  GETXATTR: 22,
  LISTXATTR: 23,
  FLUSH: 25,
  INIT: 26,
  OPENDIR: 27,
  READDIR: 28,
  RELEASEDIR: 29,
  FSYNCDIR: 30,
  ACCESS: 34,
  CREATE: 35,
  INTERRUPT: 36,
  DESTROY: 38,
  BATCH_FORGET: 42,
  READDIRPLUS: 44,
} as const;
export type OpcodeNumber = number;

/** open_out.open_flags. */
export const FOPEN_DIRECT_IO = 1 << 0;
export const FOPEN_KEEP_CACHE = 1 << 1;
export const FOPEN_NONSEEKABLE = 1 << 2;
export const FOPEN_CACHE_DIR = 1 << 3;
export const FOPEN_STREAM = 1 << 4;
export const FOPEN_NOFLUSH = 1 << 5;

/** setattr_in.valid bits. */
export const FATTR_MODE = 1 << 0;
export const FATTR_UID = 1 << 1;
export const FATTR_GID = 1 << 2;
export const FATTR_SIZE = 1 << 3;
export const FATTR_ATIME = 1 << 4;
export const FATTR_MTIME = 1 << 5;
export const FATTR_FH = 1 << 6;

/** init flags we may request (fuse_init_in/out.flags). */
export const FUSE_ASYNC_READ = 1 << 0;
export const FUSE_BIG_WRITES = 1 << 5;
/**
 * The kernel refreshes a directory's attributes (once they are older than their timeout) before it
 * serves a listing from its cache, and drops the cache if the mtime changed: what makes
 * FOPEN_CACHE_DIR safe for a directory whose listing can change (dispatch.ts OPENDIR).
 */
export const FUSE_AUTO_INVAL_DATA = 1 << 12;
/** READDIRPLUS instead of READDIR: names come with their entries, so a walk needs no LOOKUP per name. */
export const FUSE_DO_READDIRPLUS = 1 << 13;
export const FUSE_MAX_PAGES = 1 << 22;

/** dirent types (DT_* from dirent.h), as the kernel expects in fuse_dirent.type. */
export const DT_DIR = 4;
export const DT_REG = 8;
export const DT_LNK = 10;

export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

export const SIZES = {
  inHeader: 40,
  outHeader: 16,
  attr: 88,
  entryOut: 128,
  attrOut: 104,
  openOut: 16,
  initIn: 64,
  initInCompat: 16,
  initOut: 64,
  writeIn: 40,
  writeOut: 8,
  readIn: 40,
  setattrIn: 88,
  statfsOut: 80,
  direntHeader: 24,
  /** fuse_direntplus: an entry_out, then a dirent. */
  direntplusHeader: 152,
} as const;

/** Who made the request: host ids, as seen from the init namespaces. */
export interface Caller {
  pid: number;
  uid: number;
  gid: number;
}

export interface InHeader extends Caller {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: bigint;
}

export function decodeInHeader(buf: Buffer): InHeader {
  if (buf.length < SIZES.inHeader) throw new RangeError(`fuse request too short: ${buf.length} bytes`);
  return {
    len: buf.readUInt32LE(0),
    opcode: buf.readUInt32LE(4),
    unique: buf.readBigUInt64LE(8),
    nodeid: buf.readBigUInt64LE(16),
    uid: buf.readUInt32LE(24),
    gid: buf.readUInt32LE(28),
    pid: buf.readUInt32LE(32),
  };
}

/** Body of a request: the bytes after the header, bounded by header.len (the read buffer is larger). */
export function requestBody(buf: Buffer, header: InHeader): Buffer {
  return buf.subarray(SIZES.inHeader, header.len);
}

/** A NUL-terminated name (LOOKUP). */
export function decodeName(body: Buffer): string {
  const end = body.indexOf(0);
  return body.toString('utf8', 0, end < 0 ? body.length : end);
}

export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  /** Since 7.36 (FUSE_INIT_EXT): bits 32-63 of the flags; 0 from older kernels. */
  flags2?: number;
}

export function decodeInitIn(body: Buffer): InitIn {
  // Kernels before 7.36 send only the first 16 bytes.
  if (body.length < SIZES.initInCompat) throw new RangeError('short fuse_init_in');
  return { major: body.readUInt32LE(0), minor: body.readUInt32LE(4), maxReadahead: body.readUInt32LE(8), flags: body.readUInt32LE(12), flags2: body.length >= 20 ? body.readUInt32LE(16) : 0 };
}

export interface SetattrIn {
  valid: number;
  fh: bigint;
  size: bigint;
  mode: number;
  uid: number;
  gid: number;
}

export function decodeSetattrIn(body: Buffer): SetattrIn {
  if (body.length < SIZES.setattrIn) throw new RangeError('short fuse_setattr_in');
  return {
    valid: body.readUInt32LE(0),
    fh: body.readBigUInt64LE(8),
    size: body.readBigUInt64LE(16),
    mode: body.readUInt32LE(68),
    uid: body.readUInt32LE(76),
    gid: body.readUInt32LE(80),
  };
}

/** fuse_getattr_in: fh is the handle's when flags has FUSE_GETATTR_FH (a read(2) or fstat of an open file). */
export const FUSE_GETATTR_FH = 1;

export interface GetattrIn {
  flags: number;
  fh: bigint;
}

export function decodeGetattrIn(body: Buffer): GetattrIn {
  if (body.length < 16) throw new RangeError('short fuse_getattr_in');
  return { flags: body.readUInt32LE(0), fh: body.readBigUInt64LE(8) };
}

export interface OpenIn {
  flags: number;
}

export function decodeOpenIn(body: Buffer): OpenIn {
  if (body.length < 8) throw new RangeError('short fuse_open_in');
  return { flags: body.readUInt32LE(0) };
}

export interface ReadIn {
  fh: bigint;
  offset: bigint;
  size: number;
  flags: number;
}

export function decodeReadIn(body: Buffer): ReadIn {
  if (body.length < SIZES.readIn) throw new RangeError('short fuse_read_in');
  return { fh: body.readBigUInt64LE(0), offset: body.readBigUInt64LE(8), size: body.readUInt32LE(16), flags: body.readUInt32LE(32) };
}

export interface WriteIn {
  fh: bigint;
  offset: bigint;
  size: number;
  flags: number;
  /** A view into the request buffer: copy it before the buffer is reused. */
  data: Buffer;
}

export function decodeWriteIn(body: Buffer): WriteIn {
  if (body.length < SIZES.writeIn) throw new RangeError('short fuse_write_in');
  const size = body.readUInt32LE(16);
  if (body.length < SIZES.writeIn + size) throw new RangeError('fuse_write_in data truncated');
  return {
    fh: body.readBigUInt64LE(0),
    offset: body.readBigUInt64LE(8),
    size,
    flags: body.readUInt32LE(32),
    data: body.subarray(SIZES.writeIn, SIZES.writeIn + size),
  };
}

export interface ReleaseIn {
  fh: bigint;
  flags: number;
}

export function decodeReleaseIn(body: Buffer): ReleaseIn {
  if (body.length < 24) throw new RangeError('short fuse_release_in');
  return { fh: body.readBigUInt64LE(0), flags: body.readUInt32LE(8) };
}

export function decodeAccessIn(body: Buffer): { mask: number } {
  if (body.length < 8) throw new RangeError('short fuse_access_in');
  return { mask: body.readUInt32LE(0) };
}

export interface ForgetOne {
  nodeid: bigint;
  nlookup: bigint;
}

/** FORGET carries one node in the header plus nlookup; BATCH_FORGET carries a list. Neither gets a reply. */
export function decodeForget(header: InHeader, body: Buffer): ForgetOne[] {
  if (header.opcode === Opcode.FORGET) return [{ nodeid: header.nodeid, nlookup: body.readBigUInt64LE(0) }];
  const count = body.readUInt32LE(0);
  const out: ForgetOne[] = [];
  for (let i = 0; i < count && 8 + (i + 1) * 16 <= body.length; i++) {
    out.push({ nodeid: body.readBigUInt64LE(8 + i * 16), nlookup: body.readBigUInt64LE(16 + i * 16) });
  }
  return out;
}

/** Requests the kernel sends without waiting for (or accepting) a reply. */
export function expectsReply(opcode: number): boolean {
  return opcode !== Opcode.FORGET && opcode !== Opcode.BATCH_FORGET && opcode !== Opcode.INTERRUPT;
}

// ---- replies ----

/** fuse_out_header (len covers the body too) followed by the body. */
function message(error: number, unique: bigint, body?: Buffer): Buffer {
  const len = SIZES.outHeader + (body ? body.length : 0);
  const out = Buffer.alloc(len);
  out.writeUInt32LE(len, 0);
  out.writeInt32LE(error, 4);
  out.writeBigUInt64LE(unique, 8);
  if (body) body.copy(out, SIZES.outHeader);
  return out;
}

/** A reply: the header, then the body. */
export function reply(unique: bigint, body?: Buffer): Buffer {
  return message(0, unique, body);
}

/** An error reply: the header alone with error = -errno (a positive errno is negated). */
export function replyError(unique: bigint, errno: number): Buffer {
  return message(-Math.abs(errno), unique);
}

/** fuse_notify_code FUSE_NOTIFY_STORE. */
export const NOTIFY_STORE = 4;

/**
 * A store of data at offset (fuse_notify_store_out {nodeid, offset, size, padding}, then the bytes;
 * notifications carry unique 0 and the code as error). The kernel grows i_size to offset + size if
 * smaller, but only when something is written (fuse_write_update_attr's `written > 0`): a store of
 * no data touches no page and leaves i_size alone, bumping the inode's attribute version and
 * marking its size stale (the next read(2) asks GETATTR; splice does not). With data it locks and
 * fills the pages it covers, which a READ in flight for them may hold locked (worker.ts).
 */
export function notifyStore(ino: bigint, offset: bigint, data: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(24 + data.length);
  body.writeBigUInt64LE(ino, 0);
  body.writeBigUInt64LE(offset, 8);
  body.writeUInt32LE(data.length, 16);
  data.copy(body, 24);
  return message(NOTIFY_STORE, 0n, body);
}

/** fuse_notify_code FUSE_NOTIFY_INVAL_INODE. */
export const NOTIFY_INVAL_INODE = 2;

/**
 * Drops ino's cached pages from offset on (fuse_notify_inval_inode_out {ino, off, len}; len 0: to
 * the end) and marks its attributes stale. A page a pipe still holds (a splice reader's output not
 * yet read) leaves the file but keeps its bytes, so a store after this fills a new page instead of
 * rewriting that one under the pipe's reader.
 */
export function notifyInvalInode(ino: bigint, offset = 0n, len = 0n): Buffer {
  const body = Buffer.alloc(24);
  body.writeBigUInt64LE(ino, 0);
  body.writeBigInt64LE(offset, 8);
  body.writeBigInt64LE(len, 16);
  return message(NOTIFY_INVAL_INODE, 0n, body);
}

/** fuse_notify_code FUSE_NOTIFY_RESEND (Linux 6.9+, protocol 7.40). */
export const NOTIFY_RESEND = 7;

/**
 * "Resend every request you sent me and I have not answered": a server that took over the
 * connection asks for the requests its dead predecessor had read, so their callers do not wait
 * forever. The header alone.
 */
export function notifyResend(): Buffer {
  return message(NOTIFY_RESEND, 0n);
}

export interface Attr {
  ino: bigint;
  size: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch, for atime/mtime/ctime alike. */
  time: number;
  /** mtime's nanoseconds: a directory's listing stamp (the kernel compares mtimes to keep a cached listing). */
  mtimeNsec?: number;
  blksize?: number;
}

/** A non-negative integer below 2^53 as a little-endian u64. */
function writeU64(out: Buffer, v: number, at: number): void {
  out.writeUInt32LE(v % 0x100000000, at);
  out.writeUInt32LE(Math.floor(v / 0x100000000), at + 4);
}

export function encodeAttr(a: Attr, out: Buffer = Buffer.alloc(SIZES.attr), at = 0): Buffer {
  const blksize = a.blksize ?? 4096;
  // Sizes and times as Numbers (exact below 2^53): BigInt arithmetic per entry was a good part of
  // a READDIRPLUS reply's cost.
  const size = Number(a.size);
  const t = Math.floor(a.time);
  out.writeBigUInt64LE(a.ino, at);
  writeU64(out, size, at + 8);
  writeU64(out, Math.ceil(size / 512), at + 16); // st_blocks is in 512-byte units
  writeU64(out, t, at + 24);
  writeU64(out, t, at + 32);
  writeU64(out, t, at + 40);
  out.writeUInt32LE(0, at + 48); // atimensec
  out.writeUInt32LE(a.mtimeNsec ?? 0, at + 52);
  out.writeUInt32LE(0, at + 56); // ctimensec
  out.writeUInt32LE(a.mode, at + 60);
  out.writeUInt32LE(a.nlink, at + 64);
  out.writeUInt32LE(a.uid, at + 68);
  out.writeUInt32LE(a.gid, at + 72);
  out.writeUInt32LE(0, at + 76); // rdev
  out.writeUInt32LE(blksize, at + 80);
  out.writeUInt32LE(0, at + 84); // flags
  return out;
}

/** A timeout in seconds as the (u64 seconds, u32 nanoseconds) pair the kernel wants. */
function splitTimeout(seconds: number): [bigint, number] {
  const whole = Math.floor(seconds);
  return [BigInt(whole), Math.round((seconds - whole) * 1e9)];
}

export interface EntryOut {
  nodeid: bigint;
  generation?: bigint;
  entryTimeout: number;
  attrTimeout: number;
  attr: Attr;
}

/** An entry_out, into out at `at` (a new buffer by default). out must be zeroed (the padding). */
export function encodeEntryOut(e: EntryOut, out: Buffer = Buffer.alloc(SIZES.entryOut), at = 0): Buffer {
  const [es, ens] = splitTimeout(e.entryTimeout);
  const [as, ans] = splitTimeout(e.attrTimeout);
  out.writeBigUInt64LE(e.nodeid, at);
  out.writeBigUInt64LE(e.generation ?? 0n, at + 8);
  out.writeBigUInt64LE(es, at + 16);
  out.writeBigUInt64LE(as, at + 24);
  out.writeUInt32LE(ens, at + 32);
  out.writeUInt32LE(ans, at + 36);
  encodeAttr(e.attr, out, at + 40);
  return out;
}

export function encodeAttrOut(attrTimeout: number, attr: Attr): Buffer {
  const out = Buffer.alloc(SIZES.attrOut);
  const [s, ns] = splitTimeout(attrTimeout);
  out.writeBigUInt64LE(s, 0);
  out.writeUInt32LE(ns, 8);
  out.writeUInt32LE(0, 12); // dummy
  encodeAttr(attr, out, 16);
  return out;
}

export function encodeOpenOut(fh: bigint, openFlags: number): Buffer {
  const out = Buffer.alloc(SIZES.openOut);
  out.writeBigUInt64LE(fh, 0);
  out.writeUInt32LE(openFlags >>> 0, 8);
  return out;
}

export function encodeWriteOut(size: number): Buffer {
  const out = Buffer.alloc(SIZES.writeOut);
  out.writeUInt32LE(size, 0);
  return out;
}

export interface InitOut {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  timeGran: number;
  maxPages: number;
  flags2?: number;
}

export function encodeInitOut(i: InitOut): Buffer {
  const out = Buffer.alloc(SIZES.initOut);
  out.writeUInt32LE(i.major, 0);
  out.writeUInt32LE(i.minor, 4);
  out.writeUInt32LE(i.maxReadahead, 8);
  out.writeUInt32LE(i.flags >>> 0, 12);
  out.writeUInt16LE(i.maxBackground, 16);
  out.writeUInt16LE(i.congestionThreshold, 18);
  out.writeUInt32LE(i.maxWrite, 20);
  out.writeUInt32LE(i.timeGran, 24);
  out.writeUInt16LE(i.maxPages, 28);
  // map_alignment (30): zero; max_stack_depth (36), unused: zero
  out.writeUInt32LE((i.flags2 ?? 0) >>> 0, 32);
  return out;
}

const PAGE_SIZE = 4096;

/** FUSE_INIT_EXT: flags2 is read; FUSE_OVER_IO_URING is bit 41 (flags2 bit 9), since 7.42. */
export const FUSE_INIT_EXT = 1 << 30;
export const FUSE2_OVER_IO_URING = 1 << 9;
/** The minor at which the kernel takes requests over io_uring. */
export const FUSE_IO_URING_MINOR = 42;

/**
 * Answers INIT: the version the kernel gets is min(its minor, ours); a kernel with a newer major gets
 * our major alone (it then re-sends INIT), an older one is refused. max_write is rounded to pages
 * and announced through max_pages too, since the kernel caps requests at max_pages.
 */
export function negotiateInit(req: InitIn, want: { maxWrite: number; maxReadahead?: number; ioUring?: boolean }): { ok: true; out: InitOut } | { ok: false; errno: number; reason: string } {
  if (req.major < FUSE_KERNEL_VERSION) return { ok: false, errno: 71 /* EPROTO */, reason: `kernel FUSE major ${req.major} too old` };
  const maxPages = Math.max(1, Math.ceil(want.maxWrite / PAGE_SIZE));
  const base: InitOut = {
    major: FUSE_KERNEL_VERSION,
    minor: FUSE_KERNEL_MINOR_VERSION,
    maxReadahead: 0,
    flags: 0,
    maxBackground: 0,
    congestionThreshold: 0,
    maxWrite: 0,
    timeGran: 0,
    maxPages: 0,
  };
  if (req.major > FUSE_KERNEL_VERSION) return { ok: true, out: base };
  // io_uring: only where the kernel offers it (fuse.enable_uring Y) and at the minor it came with.
  const uring = want.ioUring === true && ((req.flags2 ?? 0) & FUSE2_OVER_IO_URING) !== 0 && req.minor >= FUSE_IO_URING_MINOR;
  const minor = uring ? FUSE_IO_URING_MINOR : Math.min(req.minor, FUSE_KERNEL_MINOR_VERSION);
  // Only flags the kernel offered may be returned; ASYNC_READ lets parallel readers of one file
  // overlap. DO_READDIRPLUS without READDIRPLUS_AUTO: always plus, since listing a pass-through
  // directory stats every entry anyway. AUTO_INVAL_DATA: cached listings are checked against the
  // directory's mtime (regular files are direct I/O with a fixed mtime, so it changes nothing there).
  const flags = (req.flags & (FUSE_ASYNC_READ | FUSE_BIG_WRITES | FUSE_MAX_PAGES | FUSE_DO_READDIRPLUS | FUSE_AUTO_INVAL_DATA)) | (uring ? FUSE_INIT_EXT : 0);
  return {
    ok: true,
    out: {
      ...base,
      minor,
      maxReadahead: Math.min(req.maxReadahead, want.maxReadahead ?? req.maxReadahead),
      flags,
      maxBackground: 64,
      congestionThreshold: 48,
      maxWrite: maxPages * PAGE_SIZE,
      timeGran: 1_000_000_000, // we report whole seconds
      maxPages: flags & FUSE_MAX_PAGES ? maxPages : 0,
      flags2: uring ? FUSE2_OVER_IO_URING : 0,
    },
  };
}

export interface Dirent {
  ino: bigint;
  name: string;
  type: number;
}

export function direntSize(nameLength: number): number {
  return (SIZES.direntHeader + nameLength + 7) & ~7;
}

/**
 * Packs directory entries starting at index `offset` into at most `size` bytes. Each entry's `off` is
 * the index of the next one, which the kernel hands back as the offset of the next READDIR; an entry
 * that does not fit whole is left for that next call.
 */
export function packDirents(entries: readonly Dirent[], offset: number, size: number): Buffer {
  const parts: Buffer[] = [];
  let used = 0;
  for (let i = offset; i < entries.length; i++) {
    const e = entries[i]!;
    const name = Buffer.from(e.name, 'utf8');
    const len = direntSize(name.length);
    if (used + len > size) break;
    const d = Buffer.alloc(len); // zero padding
    d.writeBigUInt64LE(e.ino, 0);
    d.writeBigUInt64LE(BigInt(i + 1), 8);
    d.writeUInt32LE(name.length, 16);
    d.writeUInt32LE(e.type, 20);
    name.copy(d, SIZES.direntHeader);
    parts.push(d);
    used += len;
  }
  return Buffer.concat(parts, used);
}

export interface DirentPlus extends Dirent {
  /** The entry as LOOKUP would answer it; nodeid 0 (for . and ..) makes the kernel skip it. */
  entry: EntryOut;
}

export function direntplusSize(nameLength: number): number {
  return (SIZES.direntplusHeader + nameLength + 7) & ~7;
}

/**
 * packDirents for READDIRPLUS: each entry is an entry_out followed by the dirent. entryAt(i) is
 * asked only for the entries that fit, so attributes are made for no more than one reply holds.
 */
export function packDirentsPlus(names: readonly Dirent[], entryAt: (i: number) => EntryOut, offset: number, size: number): Buffer {
  // One buffer for the reply (a Buffer per entry made half a /sys/kernel walk's garbage).
  const out = Buffer.alloc(size);
  let used = 0;
  for (let i = offset; i < names.length; i++) {
    const e = names[i]!;
    const nameLength = Buffer.byteLength(e.name, 'utf8');
    const len = direntplusSize(nameLength);
    if (used + len > size) break;
    encodeEntryOut(entryAt(i), out, used);
    const at = used + SIZES.entryOut;
    out.writeBigUInt64LE(e.ino, at);
    out.writeBigUInt64LE(BigInt(i + 1), at + 8);
    out.writeUInt32LE(nameLength, at + 16);
    out.writeUInt32LE(e.type, at + 20);
    out.write(e.name, used + SIZES.direntplusHeader, 'utf8');
    used += len;
  }
  return out.subarray(0, used);
}

export interface Statfs {
  blocks: bigint;
  bfree: bigint;
  bavail: bigint;
  files: bigint;
  ffree: bigint;
  bsize: number;
  namelen: number;
  frsize: number;
}

export function encodeStatfsOut(s: Statfs): Buffer {
  const out = Buffer.alloc(SIZES.statfsOut);
  out.writeBigUInt64LE(s.blocks, 0);
  out.writeBigUInt64LE(s.bfree, 8);
  out.writeBigUInt64LE(s.bavail, 16);
  out.writeBigUInt64LE(s.files, 24);
  out.writeBigUInt64LE(s.ffree, 32);
  out.writeUInt32LE(s.bsize, 40);
  out.writeUInt32LE(s.namelen, 44);
  out.writeUInt32LE(s.frsize, 48);
  return out;
}

/** Smallest read buffer that never makes the kernel fail a /dev/fuse read with EINVAL. */
export function readBufferSize(maxWrite: number): number {
  return Math.max(FUSE_MIN_READ_BUFFER, maxWrite + 4096);
}
