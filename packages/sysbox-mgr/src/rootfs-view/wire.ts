// The few FUSE wire formats (include/uapi/linux/fuse.h, protocol 7.31) the rootfs view speaks.
// Kept here rather than shared with sysbox-fs: that server encodes virtual files (whole-second
// times, no rdev); this one passes real inodes through.
import type { BigIntStats } from 'node:fs';

export const Op = {
  LOOKUP: 1, FORGET: 2, GETATTR: 3, SETATTR: 4, READLINK: 5, SYMLINK: 6, MKNOD: 8, MKDIR: 9, UNLINK: 10,
  RMDIR: 11, RENAME: 12, LINK: 13, OPEN: 14, READ: 15, WRITE: 16, STATFS: 17, RELEASE: 18, FSYNC: 20,
  FLUSH: 25, INIT: 26, OPENDIR: 27, READDIR: 28, RELEASEDIR: 29, FSYNCDIR: 30, ACCESS: 34, CREATE: 35,
  INTERRUPT: 36, BATCH_FORGET: 42, RENAME2: 45,
} as const;

export const FATTR = { MODE: 1, UID: 2, GID: 4, SIZE: 8, ATIME: 16, MTIME: 32, ATIME_NOW: 128, MTIME_NOW: 256 } as const;
const FUSE_BIG_WRITES = 1 << 5;
export const FOPEN_DIRECT_IO = 1;
export const IN_HEADER = 40;

export interface Request {
  opcode: number;
  unique: bigint;
  nodeid: bigint;
  uid: number;
  gid: number;
  body: Buffer;
}

export function decodeRequest(buf: Buffer, n: number): Request {
  const len = Math.min(buf.readUInt32LE(0), n);
  return {
    opcode: buf.readUInt32LE(4),
    unique: buf.readBigUInt64LE(8),
    nodeid: buf.readBigUInt64LE(16),
    uid: buf.readUInt32LE(24),
    gid: buf.readUInt32LE(28),
    body: buf.subarray(IN_HEADER, len),
  };
}

/** NUL-terminated strings packed one after another (LOOKUP, SYMLINK, RENAME names). */
export function names(body: Buffer, from: number, count: number): string[] {
  const out: string[] = [];
  let at = from;
  for (let i = 0; i < count; i++) {
    const end = body.indexOf(0, at);
    out.push(body.toString('utf8', at, end < 0 ? body.length : end));
    at = end < 0 ? body.length : end + 1;
  }
  return out;
}

export function message(unique: bigint, error: number, body?: Buffer): Buffer {
  const len = 16 + (body ? body.length : 0);
  const out = Buffer.alloc(len);
  out.writeUInt32LE(len, 0);
  out.writeInt32LE(error, 4);
  out.writeBigUInt64LE(unique, 8);
  body?.copy(out, 16);
  return out;
}

/** How the view shows an owner: the container's ids, or the overflow id for anything else. */
export type IdView = (hostId: number, isGid: boolean) => number;

/** fuse_attr (88 bytes) of a real inode. */
function attr(st: BigIntStats, view: IdView, out: Buffer, at: number): void {
  out.writeBigUInt64LE(st.ino, at);
  out.writeBigUInt64LE(st.size, at + 8);
  out.writeBigUInt64LE(st.blocks, at + 16);
  out.writeBigUInt64LE(st.atimeNs / 1_000_000_000n, at + 24);
  out.writeBigUInt64LE(st.mtimeNs / 1_000_000_000n, at + 32);
  out.writeBigUInt64LE(st.ctimeNs / 1_000_000_000n, at + 40);
  out.writeUInt32LE(Number(st.atimeNs % 1_000_000_000n), at + 48);
  out.writeUInt32LE(Number(st.mtimeNs % 1_000_000_000n), at + 52);
  out.writeUInt32LE(Number(st.ctimeNs % 1_000_000_000n), at + 56);
  out.writeUInt32LE(Number(st.mode), at + 60);
  out.writeUInt32LE(Number(st.nlink), at + 64);
  out.writeUInt32LE(view(Number(st.uid), false), at + 68);
  out.writeUInt32LE(view(Number(st.gid), true), at + 72);
  const rdev = Number(st.rdev);
  // userspace dev_t to the kernel's new_encode_dev
  const major = Number((st.rdev >> 8n) & 0xfffn);
  const minor = (rdev & 0xff) | Number((st.rdev >> 12n) & 0xfff00n);
  out.writeUInt32LE(((minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)) >>> 0, at + 76);
  out.writeUInt32LE(Number(st.blksize), at + 80);
}

/** fuse_entry_out; timeouts 0: the container changes the same files behind our back. */
export function entryOut(nodeid: bigint, st: BigIntStats, view: IdView): Buffer {
  const out = Buffer.alloc(40 + 88);
  out.writeBigUInt64LE(nodeid, 0);
  attr(st, view, out, 40);
  return out;
}

export function attrOut(st: BigIntStats, view: IdView): Buffer {
  const out = Buffer.alloc(16 + 88);
  attr(st, view, out, 16);
  return out;
}

export function openOut(fh: number, flags: number): Buffer {
  const out = Buffer.alloc(16);
  out.writeBigUInt64LE(BigInt(fh), 0);
  out.writeUInt32LE(flags, 8);
  return out;
}

export function writeOut(size: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeUInt32LE(size, 0);
  return out;
}

export function statfsOut(s: { bsize: number; blocks: number; bfree: number; bavail: number; files: number; ffree: number }): Buffer {
  const out = Buffer.alloc(80);
  out.writeBigUInt64LE(BigInt(s.blocks), 0);
  out.writeBigUInt64LE(BigInt(s.bfree), 8);
  out.writeBigUInt64LE(BigInt(s.bavail), 16);
  out.writeBigUInt64LE(BigInt(s.files), 24);
  out.writeBigUInt64LE(BigInt(s.ffree), 32);
  out.writeUInt32LE(s.bsize, 40);
  out.writeUInt32LE(255, 44);
  out.writeUInt32LE(s.bsize, 48);
  return out;
}

/** fuse_init_out for protocol 7.31 with big writes when offered. */
export function initOut(body: Buffer, maxWrite: number): Buffer {
  const major = body.readUInt32LE(0);
  const out = Buffer.alloc(64);
  out.writeUInt32LE(7, 0);
  if (major > 7) return out; // the kernel re-sends INIT with our major
  out.writeUInt32LE(Math.min(body.readUInt32LE(4), 31), 4);
  out.writeUInt32LE(body.readUInt32LE(8), 8);
  out.writeUInt32LE(body.readUInt32LE(12) & FUSE_BIG_WRITES, 12);
  out.writeUInt16LE(16, 16);
  out.writeUInt16LE(12, 18);
  out.writeUInt32LE(maxWrite, 20);
  out.writeUInt32LE(1, 24); // time granularity: ns
  return out;
}

export interface Dirent { ino: bigint; name: string; type: number }

/** Entries from index `offset` that fit in `size` bytes; each one's off is the next index. */
export function dirents(entries: readonly Dirent[], offset: number, size: number): Buffer {
  const parts: Buffer[] = [];
  let used = 0;
  for (let i = offset; i < entries.length; i++) {
    const name = Buffer.from(entries[i]!.name, 'utf8');
    const len = (24 + name.length + 7) & ~7;
    if (used + len > size) break;
    const d = Buffer.alloc(len);
    d.writeBigUInt64LE(entries[i]!.ino, 0);
    d.writeBigUInt64LE(BigInt(i + 1), 8);
    d.writeUInt32LE(name.length, 16);
    d.writeUInt32LE(entries[i]!.type, 20);
    name.copy(d, 24);
    parts.push(d);
    used += len;
  }
  return Buffer.concat(parts, used);
}
