// A pass-through FUSE file system showing a container's shifted rootfs as Docker expects it on the
// host: owners as the container sees them (its root as 0, not as its host id), and files created as
// host root landing as the container's root. Docker's `docker cp` writes and reads there.
// The kernel cannot do this: an overlay mount cannot be ID-mapped (mount_setattr fails EINVAL),
// and writing as host root through the shifted overlay fails EOVERFLOW (host uid 0 has no mapping
// on its ID-mapped layers).
//
// The process is chrooted into the rootfs (symlinks the container plants resolve inside it, as in
// Docker's own chrooted copy) and acts with fsuid/fsgid = the container root's host ids while
// keeping host root's capabilities: files are created by the container's root, any owner in the
// container's range can be set. Path-based nodes; one request at a time.
import fs from 'node:fs';
import * as native from '@sysbox/native';
import * as w from './wire.js';

const E = { ENOENT: 2, EIO: 5, EBADF: 9, EINVAL: 22, ENOSYS: 38, EOVERFLOW: 75 } as const;
const OVERFLOW_ID = 65534;
const S_IFMT = 0o170000;
const S_ISGID = 0o2000;
const O_NOFOLLOW = fs.constants.O_NOFOLLOW;
const O_CREAT = fs.constants.O_CREAT;

export interface ViewIds { uid: number; gid: number; size: number }

class FsError extends Error {
  constructor(readonly errno: number) { super(`errno ${errno}`); }
}

function errnoOf(err: unknown): number {
  if (err instanceof FsError) return err.errno;
  const e = (err as { errno?: number }).errno;
  return typeof e === 'number' && e !== 0 ? Math.abs(e) : E.EIO;
}

function join(dir: string, name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new FsError(E.EINVAL);
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

function direntType(mode: number): number {
  return (mode & S_IFMT) >> 12;
}

export class RootfsView {
  private readonly paths = new Map<bigint, { path: string; lookups: bigint }>([[1n, { path: '/', lookups: 1n }]]);
  private readonly ids = new Map<string, bigint>([['/', 1n]]);
  private nextId = 2n;
  private readonly dirs = new Map<number, w.Dirent[]>();
  private nextDir = 1;
  readonly view: w.IdView;

  /** `root`: where the paths the kernel names live ('/' once pivoted; a temp dir in unit tests). */
  constructor(private readonly range: ViewIds, private readonly maxWrite: number, private readonly root = '/') {
    this.view = (id, isGid) => {
      const base = isGid ? range.gid : range.uid;
      return id >= base && id < base + range.size ? id - base : OVERFLOW_ID;
    };
  }

  /** The host id behind an id as the view shows it (a host caller's uid, a chown's argument). */
  private host(id: number, isGid: boolean): number {
    if (id >= this.range.size) throw new FsError(E.EOVERFLOW);
    return (isGid ? this.range.gid : this.range.uid) + id;
  }

  private real(p: string): string {
    return this.root === '/' ? p : this.root + p;
  }

  private pathOf(nodeid: bigint): string {
    const n = this.paths.get(nodeid);
    if (!n) throw new FsError(E.ENOENT);
    return n.path;
  }

  private entry(path: string): Buffer {
    const st = fs.lstatSync(this.real(path), { bigint: true });
    let id = this.ids.get(path);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(path, id);
      this.paths.set(id, { path, lookups: 0n });
    }
    this.paths.get(id)!.lookups += 1n;
    return w.entryOut(id, st, this.view);
  }

  private forget(nodeid: bigint, n: bigint): void {
    const node = this.paths.get(nodeid);
    if (!node || nodeid === 1n) return;
    node.lookups -= n;
    if (node.lookups <= 0n) {
      this.paths.delete(nodeid);
      if (this.ids.get(node.path) === nodeid) this.ids.delete(node.path);
    }
  }

  /** The name no longer leads to that node (removed or renamed over); the node lives until forgotten. */
  private unlinkName(path: string): void {
    this.ids.delete(path);
  }

  private renamed(from: string, to: string): void {
    this.unlinkName(to);
    const prefix = `${from}/`;
    for (const [id, node] of this.paths) {
      if (node.path !== from && !node.path.startsWith(prefix)) continue;
      if (this.ids.get(node.path) === id) this.ids.delete(node.path);
      node.path = to + node.path.slice(from.length);
      this.ids.set(node.path, id);
    }
  }

  /** A new inode is the caller's, as on any file system (setgid dirs give their group). */
  private ownNew(path: string, parent: string, req: w.Request): void {
    const uid = this.host(req.uid, false);
    const pst = fs.statSync(this.real(parent));
    const gid = pst.mode & S_ISGID ? pst.gid : this.host(req.gid, true);
    const st = fs.lstatSync(this.real(path));
    if (st.uid !== uid || st.gid !== gid) fs.lchownSync(this.real(path), uid, gid);
  }

  /** Answers one request; undefined for those that take no reply. */
  handle(req: w.Request): Buffer | undefined {
    try {
      const body = this.dispatch(req);
      return body === null ? undefined : w.message(req.unique, 0, body);
    } catch (err) {
      if (req.opcode === w.Op.FORGET || req.opcode === w.Op.BATCH_FORGET || req.opcode === w.Op.INTERRUPT) return undefined;
      return w.message(req.unique, -errnoOf(err));
    }
  }

  private dispatch(req: w.Request): Buffer | null | undefined {
    const b = req.body;
    switch (req.opcode) {
      case w.Op.INIT: return w.initOut(b, this.maxWrite);
      case w.Op.LOOKUP: return this.entry(join(this.pathOf(req.nodeid), w.names(b, 0, 1)[0]!));
      case w.Op.FORGET: this.forget(req.nodeid, b.readBigUInt64LE(0)); return null;
      case w.Op.BATCH_FORGET: {
        const count = b.readUInt32LE(0);
        for (let i = 0; i < count; i++) this.forget(b.readBigUInt64LE(8 + i * 16), b.readBigUInt64LE(16 + i * 16));
        return null;
      }
      case w.Op.INTERRUPT: return null;
      case w.Op.GETATTR: return w.attrOut(fs.lstatSync(this.real(this.pathOf(req.nodeid)), { bigint: true }), this.view);
      case w.Op.SETATTR: return this.setattr(this.pathOf(req.nodeid), b);
      case w.Op.READLINK: return fs.readlinkSync(this.real(this.pathOf(req.nodeid)), { encoding: 'buffer' });
      case w.Op.SYMLINK: {
        const [name, target] = w.names(b, 0, 2);
        const parent = this.pathOf(req.nodeid);
        const p = join(parent, name!);
        fs.symlinkSync(target!, this.real(p));
        this.ownNew(p, parent, req);
        return this.entry(p);
      }
      case w.Op.MKNOD: {
        const parent = this.pathOf(req.nodeid);
        const p = join(parent, w.names(b, 16, 1)[0]!);
        native.mknod(this.real(p), b.readUInt32LE(0), b.readUInt32LE(4));
        this.ownNew(p, parent, req);
        return this.entry(p);
      }
      case w.Op.MKDIR: {
        const parent = this.pathOf(req.nodeid);
        const p = join(parent, w.names(b, 8, 1)[0]!);
        fs.mkdirSync(this.real(p), { mode: b.readUInt32LE(0) & 0o7777 });
        this.ownNew(p, parent, req);
        return this.entry(p);
      }
      case w.Op.UNLINK: case w.Op.RMDIR: {
        const p = join(this.pathOf(req.nodeid), w.names(b, 0, 1)[0]!);
        if (req.opcode === w.Op.UNLINK) fs.unlinkSync(this.real(p)); else fs.rmdirSync(this.real(p));
        this.unlinkName(p);
        return undefined;
      }
      case w.Op.RENAME: case w.Op.RENAME2: {
        const at = req.opcode === w.Op.RENAME ? 8 : 16;
        if (req.opcode === w.Op.RENAME2 && b.readUInt32LE(8) !== 0) throw new FsError(E.EINVAL);
        const [from, to] = w.names(b, at, 2);
        const src = join(this.pathOf(req.nodeid), from!);
        const dst = join(this.pathOf(b.readBigUInt64LE(0)), to!);
        fs.renameSync(this.real(src), this.real(dst));
        this.renamed(src, dst);
        return undefined;
      }
      case w.Op.LINK: {
        const p = join(this.pathOf(req.nodeid), w.names(b, 8, 1)[0]!);
        fs.linkSync(this.real(this.pathOf(b.readBigUInt64LE(0))), this.real(p));
        return this.entry(p);
      }
      case w.Op.OPEN: {
        const fd = fs.openSync(this.real(this.pathOf(req.nodeid)), (b.readUInt32LE(0) & ~O_CREAT) | O_NOFOLLOW);
        return w.openOut(fd, w.FOPEN_DIRECT_IO);
      }
      case w.Op.CREATE: {
        const parent = this.pathOf(req.nodeid);
        const p = join(parent, w.names(b, 16, 1)[0]!);
        const fd = fs.openSync(this.real(p), b.readUInt32LE(0) | O_CREAT | O_NOFOLLOW, b.readUInt32LE(4) & 0o7777);
        try {
          this.ownNew(p, parent, req);
          return Buffer.concat([this.entry(p), w.openOut(fd, w.FOPEN_DIRECT_IO)]);
        } catch (err) {
          fs.closeSync(fd);
          throw err;
        }
      }
      case w.Op.READ: {
        const size = b.readUInt32LE(16);
        const out = Buffer.allocUnsafe(size);
        const n = fs.readSync(Number(b.readBigUInt64LE(0)), out, 0, size, Number(b.readBigUInt64LE(8)));
        return out.subarray(0, n);
      }
      case w.Op.WRITE: {
        const size = b.readUInt32LE(16);
        const n = fs.writeSync(Number(b.readBigUInt64LE(0)), b, 40, size, Number(b.readBigUInt64LE(8)));
        return w.writeOut(n);
      }
      case w.Op.RELEASE: fs.closeSync(Number(b.readBigUInt64LE(0))); return undefined;
      case w.Op.FSYNC: fs.fsyncSync(Number(b.readBigUInt64LE(0))); return undefined;
      case w.Op.FLUSH: case w.Op.FSYNCDIR: case w.Op.ACCESS: return undefined;
      case w.Op.STATFS: return w.statfsOut(fs.statfsSync(this.root));
      case w.Op.OPENDIR: {
        const dir = this.pathOf(req.nodeid);
        const entries: w.Dirent[] = [];
        for (const name of ['.', '..', ...fs.readdirSync(this.real(dir))]) {
          try {
            const st = fs.lstatSync(this.real(name === '.' || name === '..' ? `${dir}/${name}` : join(dir, name)), { bigint: true });
            // Go's directory reader skips entries whose inode number is 0: always a real one.
            entries.push({ ino: st.ino, name, type: direntType(Number(st.mode)) });
          } catch {
            // removed meanwhile
          }
        }
        const fh = this.nextDir++;
        this.dirs.set(fh, entries);
        return w.openOut(fh, 0);
      }
      case w.Op.READDIR: {
        const entries = this.dirs.get(Number(b.readBigUInt64LE(0)));
        if (!entries) throw new FsError(E.EBADF);
        return w.dirents(entries, Number(b.readBigUInt64LE(8)), b.readUInt32LE(16));
      }
      case w.Op.RELEASEDIR: this.dirs.delete(Number(b.readBigUInt64LE(0))); return undefined;
      default:
        // xattrs, locks, fallocate...: the kernel stops asking (or falls back) after ENOSYS.
        throw new FsError(E.ENOSYS);
    }
  }

  private setattr(path: string, b: Buffer): Buffer {
    const p = this.real(path);
    const valid = b.readUInt32LE(0);
    if (valid & (w.FATTR.UID | w.FATTR.GID)) {
      const uid = valid & w.FATTR.UID ? this.host(b.readUInt32LE(76), false) : -1;
      const gid = valid & w.FATTR.GID ? this.host(b.readUInt32LE(80), true) : -1;
      fs.lchownSync(p, uid, gid);
    }
    const isLink = fs.lstatSync(p).isSymbolicLink();
    if (valid & w.FATTR.MODE && !isLink) fs.chmodSync(p, b.readUInt32LE(68) & 0o7777);
    if (valid & w.FATTR.SIZE) fs.truncateSync(p, Number(b.readBigUInt64LE(16)));
    if (valid & (w.FATTR.ATIME | w.FATTR.MTIME | w.FATTR.ATIME_NOW | w.FATTR.MTIME_NOW)) {
      const st = fs.lstatSync(p);
      const now = Date.now() / 1000;
      const pick = (set: number, setNow: number, secAt: number, nsAt: number, current: number): number =>
        valid & setNow ? now : valid & set ? Number(b.readBigUInt64LE(secAt)) + b.readUInt32LE(nsAt) / 1e9 : current;
      fs.lutimesSync(p, pick(w.FATTR.ATIME, w.FATTR.ATIME_NOW, 32, 56, st.atimeMs / 1000), pick(w.FATTR.MTIME, w.FATTR.MTIME_NOW, 40, 60, st.mtimeMs / 1000));
    }
    return w.attrOut(fs.lstatSync(p, { bigint: true }), this.view);
  }
}
