// The virtual-file tree the FUSE server exposes, independent of the wire protocol: a static shape
// (directories and files fixed at construction) whose file contents are computed per request, and
// pass-through directories whose entries are found per request (a host directory as the caller's
// namespaces show it, see PassthroughSource).
// Every worker thread builds its own copy from the same module and config and they share no
// memory, so inode numbers must come from what every worker knows alike: each is a hash of the
// node's path (static nodes) or of its source and path (pass-through entries; a worker asked about
// one it has not seen walks the pass-through directories to find it). Numbers so made also survive
// a new version of the tree: a daemon restarted after an upgrade adopts a FUSE connection whose
// kernel still holds the old numbers, and a node keeps its number as long as it keeps its path.
import type { Caller } from './fuse/protocol.js';

export type { Caller };

export interface VirtualFile {
  kind: 'file';
  /** Permission bits; defaults to 0444, or 0644 when write is given. */
  perm?: number;
  /** The whole content, computed afresh for each READ request (the pid says which container asks). */
  read(caller: Caller): string | Buffer;
  /** Called once per WRITE request with that request's bytes; a number return is an errno to fail with. */
  write?(caller: Caller, data: Buffer): void | number;
  /**
   * The kernel may keep the content in its page cache between opens (fuse/kept-pages.ts): content
   * re-rendered at each OPEN and kept only while it equals the caller's rendering, and short
   * (KEPT_MAX). Only opens that do not write: an open for writing is direct I/O, so a write never
   * goes through the page, and the next open renders the written value, which differs, and refills. Content that differs between callers of one inode (uptime in a nested pid
   * namespace) stays correct for read(2) (counted handles; a rival rendering opens direct I/O), but
   * splice readers go through the page whatever the open answered.
   */
  pageCached?: boolean;
  /**
   * With pageCached: the rendering may be up to a page long (/proc/meminfo, stat, cpuinfo,
   * diskstats), so its record goes in the table of long ones (kept-pages.ts LONG_TABLE). An inode's
   * record is in one table only: which one is the file's, not its rendering's length.
   */
  longRendering?: boolean;
  /**
   * With pageCached: the content is this procfs file (below a procfs root) read at offset 0, the
   * same for every caller, so the FUSE ring holders may render it too and answer an OPEN of it
   * unchanged themselves (fuse/host-file-index.ts).
   */
  hostFile?: string;
}

export interface VirtualDir {
  kind: 'dir';
  perm?: number;
  entries: Record<string, VirtualNode>;
  /** Entries found per request below entries (which win on a name clash): source's directory rel. */
  passthrough?: { source: PassthroughSource; rel: string };
}

/** One entry of a pass-through directory. */
export interface PassthroughEntry {
  name: string;
  kind: NodeKind;
  /** Permission bits to show, and to judge access by (dispatch's permits()). */
  perm: number;
  /** A symlink's target. */
  target?: string;
  /**
   * Seconds the kernel may cache this entry's name and attributes, where they differ from the
   * source's ttl (neigh.ts: the loopback device's entries, the same in every network namespace).
   */
  ttl?: number;
}

/**
 * A directory tree found per request (rel: a slash-separated path below the source's root, '' for
 * the root itself). Errors are thrown with an errno (as fs errors carry), and reach the caller.
 */
export interface PassthroughSource {
  /** Names inode numbers: a source's entries must keep their (name, rel) across workers and restarts. */
  readonly name: string;
  /** Seconds the kernel may cache names and attributes found here (0: ask every time). */
  readonly ttl: number;
  list(caller: Caller, rel: string): readonly PassthroughEntry[];
  /**
   * Present only if no listing depends on the caller: a number that changes whenever rel's listing
   * does (hash of its names), as of the listing list() would give now. The kernel may then keep
   * the listing (dispatch.ts OPENDIR), and drops it when the directory's mtime, which carries this
   * stamp, changes.
   */
  listingStamp?(rel: string): number;
  /** The entry at rel, or undefined if there is none. */
  stat(caller: Caller, rel: string): PassthroughEntry | undefined;
  read(caller: Caller, rel: string): string | Buffer;
  /** Absent: every entry is read-only. */
  write?(caller: Caller, rel: string, data: Buffer): void | number;
  /** Files found here are VirtualFile.pageCached. */
  readonly pageCached?: boolean;
  /** read(caller, rel) is procfs file rel read at offset 0, whoever asks: files found here have VirtualFile.hostFile rel. */
  readonly hostFiles?: boolean;
}

/** A symbolic link; the caller's kernel resolves target from where the link is. */
export interface VirtualSymlink {
  kind: 'symlink';
  target: string;
}

export type VirtualNode = VirtualFile | VirtualDir | VirtualSymlink;
export type NodeKind = VirtualNode['kind'];

export const file = (read: VirtualFile['read'], write?: VirtualFile['write'], perm?: number): VirtualFile =>
  ({ kind: 'file', read, ...(write ? { write } : {}), ...(perm !== undefined ? { perm } : {}) });
export const dir = (entries: Record<string, VirtualNode>, perm?: number): VirtualDir =>
  ({ kind: 'dir', entries, ...(perm !== undefined ? { perm } : {}) });

/** The FUSE root's node id is fixed by the protocol. */
export const ROOT_INODE = 1n;

export interface Inode {
  ino: bigint;
  parent: bigint;
  node: VirtualNode;
  /** Children by name, for static directories; in declaration order. */
  children?: Map<string, bigint>;
  /** Seconds the kernel may cache this entry and its attributes; unset: the session's default. */
  ttl?: number;
}

/** One entry of a directory listing. */
export interface Listed {
  name: string;
  ino: bigint;
  kind: NodeKind;
}

/**
 * What the dispatcher needs from a tree: lookups by inode number. A module named to the session
 * exports `createTree(config)` returning one of these (see worker.ts).
 */
export interface FileTree {
  /** The inode; the caller lets a worker find a pass-through entry another worker looked up. */
  get(ino: bigint, caller?: Caller): Inode | undefined;
  lookup(parent: bigint, name: string, caller?: Caller): Inode | undefined;
  /** A directory's entries as this caller sees them (without . and ..), or undefined if ino is none. */
  list(ino: bigint, caller: Caller): Listed[] | undefined;
  /**
   * A directory's listing stamp (PassthroughSource.listingStamp; 0 for a static directory, whose
   * listing never changes), or undefined if its listing depends on the caller or ino is no directory.
   */
  listingStamp?(ino: bigint, caller: Caller): number | undefined;
  /** Total inodes, reported by STATFS. */
  readonly size: number;
  /**
   * Host uid/gid every node shows to this caller (default root), and judges its access by (dispatch's
   * permits(), asked afresh per request). The kernel caches attributes per inode, not per reader, so
   * what stat shows is the last asker's until the attribute timeout: zero for the static tree.
   */
  owner?(caller: Caller): { uid: number; gid: number };
  /** Called by a worker each time it wakes or before it sleeps: housekeeping that must not wait for a request about it. */
  idle?(): void;
}

/** Every inode but the root is HASHED_BASE + a non-zero HASH_BITS-bit hash (1 in 10^6 odds of a clash among 1000s). */
export const HASHED_BASE = 1n << 61n;
export const HASH_BITS = 40n;
export const HASH_MASK = (1n << HASH_BITS) - 1n;
/** Entries a worker walks, at most, to find a pass-through inode it has not seen. */
const RECOVERY_WALK_LIMIT = 20000;
/** Pass-through inodes a worker keeps before starting afresh. */
const DYNAMIC_KEPT = 50000;
/** A walk that did not find an inode is not repeated for it within this many ms (it is likely gone). */
const UNFOUND_MS = 10_000;

/**
 * The low HASH_BITS bits of the FNV-1a 64-bit hash of text's UTF-8 bytes: stable across processes,
 * which is all it is for. Computed in four 16-bit limbs (a BigInt per byte made hashing most of a
 * /sys/kernel walk's CPU); the 64-bit prime is 2^40 + 0x1b3, so a multiply is limb * 0x1b3 plus the
 * two low limbs shifted up by 40 bits.
 */
export function hashLow(text: string): number {
  let h0 = 0x2325, h1 = 0x8422, h2 = 0x9ce4, h3 = 0xcbf2;
  const step = (b: number): void => {
    h0 ^= b;
    let t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    let t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16; t0 &= 0xffff;
    t2 += t1 >>> 16; t1 &= 0xffff;
    t3 += t2 >>> 16; t2 &= 0xffff;
    h0 = t0; h1 = t1; h2 = t2; h3 = t3 & 0xffff;
  };
  let ascii = true;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) { ascii = false; break; }
  if (ascii) for (let i = 0; i < text.length; i++) step(text.charCodeAt(i));
  else for (const b of Buffer.from(text, 'utf8')) step(b);
  // HASH_BITS = 40: limbs 0 and 1, and the low byte of limb 2.
  return h0 + h1 * 0x10000 + (h2 & 0xff) * 0x100000000;
}

function hashedIno(key: string): bigint {
  return HASHED_BASE + BigInt(hashLow(key) || 1);
}

export const passthroughIno = (source: PassthroughSource, rel: string): bigint => hashedIno(`${source.name}\0${rel}`);
/** A static node's number, from its slash-separated path below the root. */
export const staticIno = (path: string): bigint => hashedIno(`\0static\0${path}`);

const join = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);

/** Whether inode is what e describes, with this ttl (so a pass-through inode made from e before can be kept). */
function sameEntry(inode: Inode, e: PassthroughEntry, ttl: number): boolean {
  const node = inode.node;
  if (node.kind !== e.kind || inode.ttl !== ttl) return false;
  if (node.kind === 'symlink') return node.target === (e.target ?? '');
  return node.perm === e.perm;
}

export class StaticTree implements FileTree {
  private readonly inodes = new Map<bigint, Inode>();
  /** Pass-through entries seen by this worker (forgotten wholesale past DYNAMIC_KEPT: devices come and go). */
  private readonly dynamic = new Map<bigint, Inode>();
  /** Static directories with a pass-through, where a recovery walk starts. */
  private readonly passthroughRoots: Inode[] = [];
  /** Inodes a walk did not find, and when: an entry that is gone must not cost a walk per request. */
  private readonly unfound = new Map<bigint, number>();

  constructor(root: VirtualDir) {
    this.add(root, ROOT_INODE, '');
  }

  /** Static inodes only: SlottedTree lays slots out by it, so it never changes. */
  get size(): number {
    return this.inodes.size;
  }

  get(ino: bigint, caller?: Caller): Inode | undefined {
    const hit = this.find(ino);
    if (hit || !caller || this.passthroughRoots.length === 0) return hit;
    const now = performance.now();
    if (now - (this.unfound.get(ino) ?? -Infinity) < UNFOUND_MS) return undefined;
    this.walkPassthroughs(caller, ino);
    const found = this.find(ino);
    if (!found) {
      if (this.unfound.size >= DYNAMIC_KEPT) this.unfound.clear();
      this.unfound.set(ino, now);
    }
    return found;
  }

  lookup(parent: bigint, name: string, caller?: Caller): Inode | undefined {
    // get, not find: after a restart the kernel looks names up in pass-through directories it
    // still holds and this worker never met; a miss here would be cached as "no such entry".
    const p = this.get(parent, caller);
    const child = p?.children?.get(name);
    if (child !== undefined) return this.inodes.get(child);
    const pt = p?.node.kind === 'dir' ? p.node.passthrough : undefined;
    if (!p || !pt || !caller || name === '.' || name === '..' || name.includes('/')) return undefined;
    const e = pt.source.stat(caller, join(pt.rel, name));
    return e && this.remember(p, pt.source, join(pt.rel, name), e);
  }

  list(ino: bigint, caller: Caller): Listed[] | undefined {
    const d = this.get(ino, caller);
    return d && this.listInode(d, caller);
  }

  listingStamp(ino: bigint, caller: Caller): number | undefined {
    const d = this.get(ino, caller);
    if (d?.node.kind !== 'dir') return undefined;
    const pt = d.node.passthrough;
    if (!pt) return 0;
    return pt.source.listingStamp?.(pt.rel);
  }

  private find(ino: bigint): Inode | undefined {
    return this.inodes.get(ino) ?? this.dynamic.get(ino);
  }

  private listInode(d: Inode, caller: Caller): Listed[] | undefined {
    if (d.node.kind !== 'dir') return undefined;
    const out: Listed[] = [...(d.children ?? [])].map(([name, c]) => ({ name, ino: c, kind: this.inodes.get(c)?.node.kind ?? 'file' }));
    const pt = d.node.passthrough;
    if (pt) {
      const own = d.children ?? new Map<string, bigint>();
      for (const e of pt.source.list(caller, pt.rel)) {
        if (!own.has(e.name)) out.push({ name: e.name, ino: this.remember(d, pt.source, join(pt.rel, e.name), e).ino, kind: e.kind });
      }
    }
    return out;
  }

  /** The inode of a pass-through entry, made (or refreshed: the source may now show it otherwise). */
  private remember(parent: Inode, source: PassthroughSource, rel: string, e: PassthroughEntry): Inode {
    const ino = passthroughIno(source, rel);
    const ttl = e.ttl ?? source.ttl;
    // Unchanged since this worker last saw it: the same inode (a walk meets each entry in every
    // listing and every lookup; a fresh node each time was garbage and closures).
    const known = this.dynamic.get(ino);
    if (known && known.parent === parent.ino && sameEntry(known, e, ttl)) return known;
    const node: VirtualNode = e.kind === 'dir'
      ? { kind: 'dir', perm: e.perm, entries: {}, passthrough: { source, rel } }
      : e.kind === 'symlink'
        ? { kind: 'symlink', target: e.target ?? '' }
        : {
          kind: 'file', perm: e.perm, read: (c) => source.read(c, rel),
          ...(source.write ? { write: (c: Caller, data: Buffer) => source.write!(c, rel, data) } : {}),
          ...(source.pageCached ? { pageCached: true } : {}),
          ...(source.hostFiles ? { hostFile: rel } : {}),
        };
    const inode: Inode = { ino, parent: parent.ino, node, ttl };
    if (this.dynamic.size >= DYNAMIC_KEPT) this.dynamic.clear();
    this.dynamic.set(ino, inode);
    return inode;
  }

  /** Lists every pass-through directory breadth-first (bounded) until ino turns up. */
  private walkPassthroughs(caller: Caller, ino: bigint): void {
    const queue = [...this.passthroughRoots];
    let seen = 0;
    while (queue.length > 0 && seen < RECOVERY_WALK_LIMIT && !this.dynamic.has(ino)) {
      const d = queue.shift()!;
      let entries: Listed[] = [];
      try {
        entries = this.listInode(d, caller) ?? [];
      } catch {
        continue; // a directory gone meanwhile, or one this caller may not read
      }
      seen += entries.length;
      for (const e of entries) {
        const c = this.dynamic.get(e.ino);
        if (e.kind === 'dir' && c) queue.push(c);
      }
    }
  }

  private add(node: VirtualNode, parent: bigint, path: string): bigint {
    const ino = path === '' ? ROOT_INODE : staticIno(path);
    if (this.inodes.has(ino)) throw new Error(`virtual tree: ${path} has the same inode number as another node`);
    const inode: Inode = { ino, parent, node };
    this.inodes.set(ino, inode);
    if (node.kind === 'dir') {
      if (node.passthrough) this.passthroughRoots.push(inode);
      inode.children = new Map();
      for (const [name, child] of Object.entries(node.entries)) {
        if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new Error(`invalid virtual file name ${JSON.stringify(name)}`);
        inode.children.set(name, this.add(child, ino, path === '' ? name : `${path}/${name}`));
      }
    }
    return ino;
  }
}
