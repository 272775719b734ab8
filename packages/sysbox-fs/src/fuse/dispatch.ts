// One FUSE request in, one reply out: the glue between the wire protocol and a FileTree. Pure (no
// I/O), so it runs in any worker and is testable without a mount.
import { constants as fsc } from 'node:fs';
import { constants as osc } from 'node:os';
import * as p from './protocol.js';
import type { Caller, FileTree, Inode, VirtualNode } from '../tree.js';
import type { RenderCache } from './render-cache.js';
import type { OpenAnswer } from './kept-pages.js';

/**
 * What the kernel holds of page-cached files (VirtualFile.pageCached), shared by the workers
 * (kept-pages.ts). open() decides an OPEN (KeptPages.open: keep, refill or direct) and counts the
 * handle unless direct; on a refill it has recorded what the next fill of the inode's page gets (the
 * OPEN being answered drops the kernel's pages), and the worker's has grown i_size to the new length
 * first, so the fill is not cut at the old one. release() uncounts a handle opened with fh.
 */
export interface PageRecords {
  /** The file handle counted opens are given. */
  readonly fh: bigint;
  held(ino: bigint): Buffer | undefined;
  open(ino: bigint, rendering: Buffer): OpenAnswer;
  /** Forgets ino's record unless handles read it (its rendering failed). */
  forget(ino: bigint): void;
  release(ino: bigint, fh: bigint): void;
  /** Counted handles of ino. */
  opens(ino: bigint): number;
  /** KeptPages.refresh: a lone counted handle's GETATTR records a changed rendering. */
  refresh(ino: bigint, rendering: Buffer): boolean;
  /** The record's version, shown as the mtime's nanoseconds. */
  version(ino: bigint): number;
  /**
   * Records that ino's content is host procfs file path (VirtualFile.hostFile), readable by every
   * caller: the ring holders then answer its OPENs themselves while its record holds the file's
   * content (host-file-index.ts). Absent where no holder reads this table.
   */
  noteHostFile?(ino: bigint, path: string): void;
}

/** The records of short renderings, and of those up to a page long (VirtualFile.longRendering). */
export interface PageTables {
  short: PageRecords;
  long: PageRecords;
}

/** A RELEASE of handle fh of ino: each table ignores an fh it did not count, and an inode is in one table. */
export function releaseCounted(pages: PageTables, ino: bigint, fh: bigint): void {
  pages.short.release(ino, fh);
  pages.long.release(ino, fh);
}

/**
 * Attribute ttl (s) of page-cached files that have none of their own (the /proc files): with
 * FUSE_AUTO_INVAL_DATA a read(2) after it asks GETATTR, whose new size or mtime (the record's
 * version) drops the pages, so a handle kept open and read again sees renderings at most this old.
 */
export const PAGE_CACHED_ATTR_TTL = 1;
/**
 * The same for files of long renderings (VirtualFile.longRendering): samplers keep /proc/stat and
 * /proc/meminfo open and read them again (procps's top and vmstat), and a stat sample a second old
 * is a sample of no CPU time passed. A reader of one rendering in several read(2)s (cat's read to
 * the end) can see a renewed rendering from where it is if this runs out between two of them.
 */
export const LONG_RENDERING_ATTR_TTL = 0.1;

export interface DispatchOptions {
  /**
   * Seconds the kernel may cache names (positive and negative) of the static tree, whose shape never
   * changes; pass-through entries carry their own (Inode.ttl).
   */
  entryTimeout: number;
  /**
   * Seconds the kernel may cache static attributes; contents are not cached (direct I/O) so this is
   * safe. With a tree whose attributes carry the caller's owner (FileTree.owner), those answered
   * to a host process (owner uid 0) are not cached at all.
   */
  attrTimeout: number;
  /**
   * st_size of every file. Must be non-zero: sendfile/splice readers (busybox cat) stop at i_size, and
   * it must cover the longest content for the same reason.
   */
  fileSize: number;
  /** atime/mtime/ctime of everything, in seconds. */
  time: number;
  /**
   * Whether the kernel may keep listings of directories that are the same for every caller
   * (OPENDIR). Only safe on a connection that negotiated FUSE_AUTO_INVAL_DATA: without it the kernel
   * never compares the mtime and would keep a listing for good.
   */
  cacheListings?: boolean;
}

export const DEFAULT_DISPATCH: DispatchOptions = { entryTimeout: 86400, attrTimeout: 86400, fileSize: 4096, time: Math.floor(Date.now() / 1000) };

const E = osc.errno;
const O_ACCMODE = 3; // not in fs.constants
const R_OK = 4;
const W_OK = 2;

type Owner = { uid: number; gid: number };
const ROOT: Owner = { uid: 0, gid: 0 };

/** Who owns the tree as this caller sees it (a container's root, so that inside it shows as root). */
function ownerFor(tree: FileTree, caller: Caller): Owner {
  return tree.owner ? tree.owner(caller) : ROOT;
}

/**
 * Whether the caller may access a node of this mode as mask (R_OK|W_OK|X_OK) asks: the owner,
 * group or other bits, as the kernel's default_permissions would judge, except that a container's
 * root gets no CAP_DAC_OVERRIDE here: the mode shown is exactly what it may do (a host setting
 * only the host's root may read shows as 0000). Host root (uid 0) may do anything. Judged here
 * rather than with default_permissions, which would cost a GETATTR round trip per open, the static
 * tree's attributes never being cached (they carry the caller's owner).
 */
export function permits(mode: number, owner: Owner, h: p.InHeader, mask: number): boolean {
  if (h.uid === 0) return true;
  const bits = h.uid === owner.uid ? (mode >> 6) & 7 : h.gid === owner.gid ? (mode >> 3) & 7 : mode & 7;
  return (bits & mask) === mask;
}

function isWritable(inode: Inode): boolean {
  return inode.node.kind === 'file' && inode.node.write !== undefined;
}

/** File type and permission bits. */
function modeOf(n: VirtualNode): number {
  if (n.kind === 'dir') return p.S_IFDIR | (n.perm ?? 0o555);
  if (n.kind === 'symlink') return p.S_IFLNK | 0o777;
  return p.S_IFREG | (n.perm ?? (n.write ? 0o644 : 0o444));
}

/**
 * stamp: a directory's listing stamp (FileTree.listingStamp), or a page-cached file's record
 * version, shown as its mtime's nanoseconds.
 * keptLength: a page-cached file's recorded length: its size, so that attributes refreshed while
 * the kernel keeps its page agree with i_size (a size change would drop the page).
 */
function attrOf(inode: Inode, opts: DispatchOptions, owner: Owner, stamp?: number, keptLength?: number): p.Attr {
  const n = inode.node;
  const { uid, gid } = owner;
  const mode = modeOf(n);
  if (n.kind === 'dir') {
    // Like a real directory: its own name, '.', and each subdirectory's '..'.
    const subdirs = Object.values(n.entries).filter((c) => c.kind === 'dir').length;
    return { ino: inode.ino, size: 0n, mode, nlink: 2 + subdirs, uid, gid, time: opts.time, mtimeNsec: stamp ?? 0 };
  }
  if (n.kind === 'symlink') return { ino: inode.ino, size: BigInt(Buffer.byteLength(n.target)), mode, nlink: 1, uid, gid, time: opts.time };
  return { ino: inode.ino, size: BigInt(keptLength ?? opts.fileSize), mode, nlink: 1, uid, gid, time: opts.time, mtimeNsec: stamp ?? 0 };
}

function toBuffer(content: string | Buffer): Buffer {
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
}

/** The directory's listing stamp, or undefined if it must not be kept; a directory it cannot list (gone, unreadable) has none. */
function listingStampOf(tree: FileTree, n: Inode, caller: Caller): number | undefined {
  try {
    return tree.listingStamp?.(n.ino, caller);
  } catch {
    return undefined;
  }
}

/** Handler exceptions become EIO, or their own errno if they carry one (e.g. a rethrown fs error). */
function errnoOf(e: unknown): number {
  const errno = (e as { errno?: unknown } | null)?.errno;
  return typeof errno === 'number' && errno !== 0 ? Math.abs(errno) : E.EIO;
}

/**
 * Builds the reply to one request, or undefined for requests that take none (FORGET, BATCH_FORGET,
 * INTERRUPT: our handlers are synchronous, so an interrupted request is answered anyway).
 */
export function dispatch(buf: Buffer, tree: FileTree, opts: DispatchOptions, cache?: RenderCache, listings?: RenderCache<Listing>, pages?: PageTables): Buffer | undefined {
  const h = p.decodeInHeader(buf);
  if (!p.expectsReply(h.opcode)) return undefined;
  try {
    return handle(h, p.requestBody(buf, h), tree, opts, cache, listings, pages);
  } catch (e) {
    // A malformed body (RangeError from a decoder) or a failing handler: the request still needs an answer.
    return p.replyError(h.unique, e instanceof RangeError ? E.EINVAL : errnoOf(e));
  }
}

/** A directory as one READDIR(PLUS) walk through it sees it: . and .., then its entries. */
export type Listing = p.Dirent[];

function listing(n: Inode, tree: FileTree, caller: Caller): Listing {
  const entries: Listing = [
    { ino: n.ino, name: '.', type: p.DT_DIR },
    { ino: n.parent, name: '..', type: p.DT_DIR },
  ];
  for (const e of tree.list(n.ino, caller) ?? []) entries.push({ ino: e.ino, name: e.name, type: e.kind === 'dir' ? p.DT_DIR : e.kind === 'symlink' ? p.DT_LNK : p.DT_REG });
  return entries;
}

function handle(h: p.InHeader, body: Buffer, tree: FileTree, opts: DispatchOptions, cache?: RenderCache, listings?: RenderCache<Listing>, pages?: PageTables): Buffer {
  const fail = (errno: number): Buffer => p.replyError(h.unique, errno);
  const ok = (b?: Buffer): Buffer => p.reply(h.unique, b);
  const caller: Caller = { pid: h.pid, uid: h.uid, gid: h.gid };
  const node = (): Inode | undefined => tree.get(h.nodeid, caller);
  // Attributes carry the caller's owner (FileTree.owner), but access is judged per request from a
  // fresh owner (permits()), so cached attributes only affect what stat shows: a pass-through entry's
  // may be cached for its source's ttl (a host process looking into a slot can leave it showing
  // host root there for that long), which saves a GETATTR per stat in a walk of /sys/kernel.
  // A static directory with a pass-through has its source's ttl too: its mtime carries its listing's
  // stamp, which the kernel must ask for again that often to drop a listing it keeps.
  /** A page-cached file's records (its table); undefined for every other node. */
  const recordsOf = (n: Inode): PageRecords | undefined => n.node.kind !== 'file' || n.node.pageCached !== true || !pages ? undefined
    : n.node.longRendering === true ? pages.long : pages.short;
  const pageCached = (n: Inode): boolean => recordsOf(n) !== undefined;
  // Attributes are kept only when they carry a container's root: a host process looking into a
  // slot first (sysbox-fs binding its files at Register, which looks up /proc/sys and its
  // directories) would otherwise leave them showing as nobody inside for their ttl (a fresh slot's
  // /proc/sys did, for 10 s). Each container reads through inodes of its own (slotted-tree.ts), so
  // what one container's reader is answered is right for the others in it. Names stay cached.
  let host: boolean | undefined;
  const hostOwned = (): boolean => (host ??= ownerFor(tree, caller).uid === 0);
  const attrTtl = (n: Inode): number => (pageCached(n) || tree.owner) && hostOwned() ? 0
    : n.ttl ?? (n.node.kind === 'dir' && n.node.passthrough ? n.node.passthrough.source.ttl : pageCached(n) ? (n.node.kind === 'file' && n.node.longRendering === true ? LONG_RENDERING_ATTR_TTL : PAGE_CACHED_ATTR_TTL) : opts.attrTimeout);
  const kept = (n: Inode): Buffer | undefined => recordsOf(n)?.held(n.ino);
  const attrFor = (n: Inode, owner: Owner): p.Attr => {
    const recs = recordsOf(n);
    const stamp = n.node.kind === 'dir' ? listingStampOf(tree, n, caller) : recs ? recs.version(n.ino) % 1e9 : undefined;
    return attrOf(n, opts, owner, stamp, kept(n)?.length);
  };
  const mayAccess = (n: Inode, mask: number): boolean => permits(modeOf(n.node), ownerFor(tree, caller), h, mask);

  switch (h.opcode) {
    case p.Opcode.LOOKUP: {
      const child = tree.lookup(h.nodeid, p.decodeName(body), caller);
      if (!child) {
        const parent = node();
        if (!parent) return fail(E.ENOENT);
        // nodeid 0 with a timeout is a cacheable "no such entry", for as long as the directory's
        // names may be cached: a pass-through directory's entries come and go.
        const ttl = parent.node.kind === 'dir' && parent.node.passthrough ? parent.node.passthrough.source.ttl : opts.entryTimeout;
        return ok(p.encodeEntryOut({ nodeid: 0n, entryTimeout: ttl, attrTimeout: 0, attr: { ino: 0n, size: 0n, mode: 0, nlink: 0, uid: 0, gid: 0, time: 0 } }));
      }
      return ok(p.encodeEntryOut({ nodeid: child.ino, entryTimeout: child.ttl ?? opts.entryTimeout, attrTimeout: attrTtl(child), attr: attrFor(child, ownerFor(tree, caller)) }));
    }
    case p.Opcode.GETATTR: {
      const n = node();
      if (!n) return fail(E.ENOENT);
      // Only files that take PAGE_CACHED_ATTR_TTL or LONG_RENDERING_ATTR_TTL (no ttl of their own: the /proc files).
      const recs = recordsOf(n);
      if (recs && n.ttl === undefined && body.length >= 16) {
        const g = p.decodeGetattrIn(body);
        if (g.flags & p.FUSE_GETATTR_FH && g.fh === recs.fh) {
          // A counted handle reading again after the ttl: if it is the only one, or the record is a
          // second old (KeptPages.refresh), it may move on.
          try {
            if (n.node.kind === 'file') recs.refresh(n.ino, toBuffer(n.node.read(caller)));
          } catch {
            // The record stays; the next OPEN renders again.
          }
        }
      }
      return ok(p.encodeAttrOut(attrTtl(n), attrFor(n, ownerFor(tree, caller))));
    }
    case p.Opcode.SETATTR: {
      // Only truncation (open with O_TRUNC, `echo > file`) is meaningful, and virtual files have no
      // stored content to cut, so it is accepted as a no-op on writable files.
      const n = node();
      if (!n) return fail(E.ENOENT);
      const s = p.decodeSetattrIn(body);
      if (s.valid & (p.FATTR_MODE | p.FATTR_UID | p.FATTR_GID)) return fail(E.EPERM);
      const attr = attrFor(n, ownerFor(tree, caller));
      if (s.valid & p.FATTR_SIZE) {
        if (n.node.kind === 'dir') return fail(E.EISDIR);
        if (!isWritable(n) || !mayAccess(n, W_OK)) return fail(E.EACCES);
      }
      return ok(p.encodeAttrOut(attrTtl(n), attr));
    }
    case p.Opcode.OPEN: {
      const n = node();
      if (!n) return fail(E.ENOENT);
      if (n.node.kind === 'dir') return fail(E.EISDIR);
      const acc = p.decodeOpenIn(body).flags & O_ACCMODE;
      const mask = acc === fsc.O_RDONLY ? R_OK : acc === fsc.O_WRONLY ? W_OK : R_OK | W_OK;
      if ((mask & W_OK && !isWritable(n)) || !mayAccess(n, mask)) return fail(E.EACCES);
      // A page-cached file opened for writing is direct I/O: its write never lands in the page.
      const recs = recordsOf(n);
      if (n.node.kind === 'file' && recs && mask === R_OK) {
        // Rendered now, so every open sees the value as of its open. A rendering that fails is left
        // to the READ, as for any file (direct I/O).
        let rendering: Buffer | undefined;
        try {
          rendering = toBuffer(n.node.read(caller));
        } catch {
          rendering = undefined;
        }
        const answer = rendering ? recs.open(n.ino, rendering) : 'direct';
        if (!rendering) recs.forget(n.ino);
        // Only a file everyone may read: a holder answers without knowing who asks.
        if (answer !== 'direct' && n.node.hostFile !== undefined && ((n.node.perm ?? 0) & 0o444) === 0o444) recs.noteHostFile?.(n.ino, n.node.hostFile);
        if (answer === 'keep') return ok(p.encodeOpenOut(recs.fh, p.FOPEN_KEEP_CACHE | p.FOPEN_NOFLUSH));
        // No KEEP_CACHE: the kernel drops the inode's pages before this open returns.
        if (answer === 'refill') return ok(p.encodeOpenOut(recs.fh, p.FOPEN_NOFLUSH));
      }
      // DIRECT_IO: no page cache, so each read sees fresh content and no size-based truncation or
      // padding; NOFLUSH: close() costs no FLUSH round trip (nothing is buffered).
      return ok(p.encodeOpenOut(0n, p.FOPEN_DIRECT_IO | p.FOPEN_NOFLUSH));
    }
    case p.Opcode.READ: {
      const n = node();
      if (!n) return fail(E.ENOENT);
      if (n.node.kind !== 'file') return fail(E.EISDIR);
      const r = p.decodeReadIn(body);
      // A page-cached file's page is filled (or refilled after eviction) through a counted handle
      // with the recorded rendering, which no other open changes while it is open: its length is
      // what i_size and the attributes say. A direct I/O handle (fh 0) reads its own rendering.
      // (Serving the record to a direct handle's page fill as well, to keep the page the counted
      // handles' beside a splice reader, made kernel/random/uuid read by cat then dd show one value
      // twice in 2 of 3 e2e runs: not done.)
      const recs = recordsOf(n);
      const counted = recs !== undefined && r.fh === recs.fh;
      let data = (counted ? kept(n) : undefined) ?? (r.offset > 0n ? cache?.get(n.ino, h.pid) : undefined);
      if (!data) {
        data = toBuffer(n.node.read(caller));
        cache?.set(n.ino, h.pid, data);
      }
      const start = r.offset > BigInt(data.length) ? data.length : Number(r.offset);
      return ok(data.subarray(start, Math.min(data.length, start + r.size)));
    }
    case p.Opcode.WRITE: {
      const n = node();
      if (!n) return fail(E.ENOENT);
      if (n.node.kind !== 'file' || !n.node.write) return fail(E.EACCES);
      const w = p.decodeWriteIn(body);
      // Copy: the data is a view into the worker's read buffer, which the next request overwrites.
      const res = n.node.write(caller, Buffer.from(w.data));
      return typeof res === 'number' && res !== 0 ? fail(res) : ok(p.encodeWriteOut(w.size));
    }
    case p.Opcode.READLINK: {
      const n = node();
      if (!n) return fail(E.ENOENT);
      return n.node.kind === 'symlink' ? ok(Buffer.from(n.node.target, 'utf8')) : fail(E.EINVAL);
    }
    case p.Opcode.OPENDIR: {
      const n = node();
      if (!n) return fail(E.ENOENT);
      if (n.node.kind !== 'dir') return fail(E.ENOTDIR);
      if (!mayAccess(n, R_OK)) return fail(E.EACCES);
      // A listing that is the same for every caller may stay in the kernel (CACHE_DIR), across opens
      // (KEEP_CACHE): with AUTO_INVAL_DATA the kernel drops it when the directory's mtime, which
      // carries the listing's stamp, changes; it asks for that after the attribute timeout (the
      // source's ttl). A listing per caller (neigh: the caller's network devices) is never kept:
      // the inode is one container's, but not one network namespace's.
      const keep = opts.cacheListings === true && listingStampOf(tree, n, caller) !== undefined;
      return ok(p.encodeOpenOut(0n, keep ? p.FOPEN_CACHE_DIR | p.FOPEN_KEEP_CACHE : 0));
    }
    case p.Opcode.READDIR:
    case p.Opcode.READDIRPLUS: {
      const n = node();
      if (!n) return fail(E.ENOENT);
      if (n.node.kind !== 'dir') return fail(E.ENOTDIR);
      const r = p.decodeReadIn(body);
      // A walk's first call lists the directory; the next ones (offsets are indices into the
      // listing) take the same listing if this worker made it, else list afresh: offsets then stay
      // valid as long as the directory does not change meanwhile, as with any directory read while
      // it changes.
      let entries = r.offset > 0n ? listings?.get(n.ino, h.pid) : undefined;
      if (!entries) {
        entries = listing(n, tree, caller);
        listings?.set(n.ino, h.pid, entries);
      }
      if (h.opcode === p.Opcode.READDIR) return ok(p.packDirents(entries, Number(r.offset), r.size));
      const owner = ownerFor(tree, caller);
      const list = entries;
      return ok(p.packDirentsPlus(list, (i) => {
        // . and .. (the first two) are not linked by the kernel; nodeid 0 says so.
        const child = i < 2 ? undefined : tree.get(list[i]!.ino, caller);
        if (!child) return { nodeid: 0n, entryTimeout: 0, attrTimeout: 0, attr: { ino: 0n, size: 0n, mode: 0, nlink: 0, uid: 0, gid: 0, time: 0 } };
        return { nodeid: child.ino, entryTimeout: child.ttl ?? opts.entryTimeout, attrTimeout: attrTtl(child), attr: attrFor(child, owner) };
      }, Number(r.offset), r.size));
    }
    case p.Opcode.STATFS:
      return ok(p.encodeStatfsOut({ blocks: 0n, bfree: 0n, bavail: 0n, files: BigInt(tree.size), ffree: 0n, bsize: 4096, namelen: 255, frsize: 4096 }));
    case p.Opcode.ACCESS: {
      const n = node();
      if (!n) return fail(E.ENOENT);
      const mask = p.decodeAccessIn(body).mask;
      if (mask & W_OK && n.node.kind === 'file' && !isWritable(n)) return fail(E.EACCES);
      return mayAccess(n, mask & 7) ? ok() : fail(E.EACCES);
    }
    case p.Opcode.RELEASE: {
      if (pages) releaseCounted(pages, h.nodeid, p.decodeReleaseIn(body).fh);
      return ok();
    }
    case p.Opcode.RELEASEDIR:
    case p.Opcode.FLUSH:
    case p.Opcode.FSYNC:
    case p.Opcode.FSYNCDIR:
    case p.Opcode.DESTROY:
      return ok();
    case p.Opcode.INIT:
      // INIT is answered once by the session before any worker starts; a second one is a protocol error.
      return fail(E.EPROTO);
    default:
      // ENOSYS also makes the kernel stop sending e.g. GETXATTR at all.
      return fail(E.ENOSYS);
  }
}
