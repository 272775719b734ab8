// Host directories no namespace owns, shown to containers as they are: /proc/sys's host-wide
// entries (kernel.*, vm.*, fs.*, ...), /sys/kernel and /sys/devices/virtual. Their values are the
// same from every namespace, so they are read from the daemon's own (host) view. They show as
// owned by the container's root, with the permissions a non-host root gets from the kernel (the
// "other" bits: readable where the host lets everyone read, never writable), so what `ls -l` says
// is what the container can do. Read through a procfs or sysfs of our own that is attached
// nowhere, so nothing the host mounted below (binfmt_misc, debugfs, an automount trigger) is
// listed or crossed. What a namespace owns never comes here: the container's own entries are put
// back over those (mount-layout.ts).
import fs from 'node:fs';
import * as native from '@sysbox/native';
import { shortSettingAt0 } from '../container/kept-files.js';
import { hashLow, type Caller, type PassthroughEntry, type PassthroughSource } from '../tree.js';

/** What a non-host root may do with an entry of this mode, shown as everyone's permission. */
export function containerPerm(mode: number, isDir: boolean): number {
  const other = mode & (isDir ? 0o5 : 0o4); // a container writes none of these; dirs keep x
  return (other << 6) | (other << 3) | other;
}

const { S_IFMT, S_IFDIR, S_IFLNK } = fs.constants;

function entry(name: string, at: string, st: fs.Stats): PassthroughEntry {
  if (st.isSymbolicLink()) return { name, kind: 'symlink', perm: 0o777, target: fs.readlinkSync(at) };
  return { name, kind: st.isDirectory() ? 'dir' : 'file', perm: containerPerm(st.mode, st.isDirectory()) };
}

/** Per thread (each worker loads this module): a /proc/sys setting or sysfs attribute fits in one read. */
const readBuf = Buffer.allocUnsafe(64 * 1024);

/**
 * A host entry's content: open, one read, close. readFileSync costs a fstat and a second read to
 * find the end besides (procfs and sysfs report size 0): 30 µs against 7–13 per /proc/sys setting,
 * measured; sysctl -a renders ~250 of them.
 */
function readHost(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    return readFrom(fd, null);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * One read at pos (null: the fd's position), more while the buffer fills (a short read is the end:
 * procfs and sysfs fill it while they have content). A copy: readBuf is reused by the next read.
 */
function readFrom(fd: number, pos: number | null): Buffer {
  const parts: Buffer[] = [];
  let at = pos;
  for (;;) {
    const n = fs.readSync(fd, readBuf, 0, readBuf.length, at);
    parts.push(Buffer.from(readBuf.subarray(0, n)));
    if (n < readBuf.length) return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    if (at !== null) at += n;
  }
}

/** A setting at offset 0: one small read (shortSettingAt0: not readBuf's 64 KiB), else read whole. A copy. */
function readSettingAt0(fd: number): Buffer {
  const short = shortSettingAt0(fd);
  return short ? Buffer.from(short) : readFrom(fd, 0);
}

/**
 * Per thread: host /proc/sys settings kept open and read again with pread at offset 0, which
 * makes procfs render the setting afresh: one syscall instead of open, read, close (which took
 * 8.6 µs of a page-cached setting's 11.8 µs OPEN; sysctl -a 0.7 ms faster, bench/README.md). The oldest is closed first past
 * KEPT_SETTINGS (sysctl -a reads ~250); an fd whose read fails (a setting unregistered since) is
 * dropped and the path opened again, which fails as a first open would.
 */
const KEPT_SETTINGS = 320;
const keptSettings = new Map<string, number>();

function readSetting(file: string): Buffer {
  const kept = keptSettings.get(file);
  if (kept !== undefined) {
    try {
      return readSettingAt0(kept);
    } catch {
      keptSettings.delete(file);
      try { fs.closeSync(kept); } catch { /* gone already */ }
    }
  }
  const fd = fs.openSync(file, 'r');
  let content: Buffer;
  try {
    content = readSettingAt0(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (keptSettings.size >= KEPT_SETTINGS) {
    const [oldest, oldFd] = keptSettings.entries().next().value as [string, number];
    keptSettings.delete(oldest);
    fs.closeSync(oldFd);
  }
  keptSettings.set(file, fd);
  return content;
}

/** Directories whose listing a source keeps (per worker): more than /sys/kernel and /proc/sys hold. */
const LISTINGS_KEPT = 4096;

/** A host directory's entries: one native call (an lstatSync per entry was most of a /sys/kernel walk). */
function listHost(dir: string): PassthroughEntry[] {
  const flat = native.listDir(dir);
  const out: PassthroughEntry[] = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const name = flat[i] as string;
    const mode = flat[i + 1] as number;
    const type = mode & S_IFMT;
    if (type === S_IFLNK) out.push({ name, kind: 'symlink', perm: 0o777, target: (flat[i + 2] as string | null) ?? '' });
    else out.push({ name, kind: type === S_IFDIR ? 'dir' : 'file', perm: containerPerm(mode, type === S_IFDIR) });
  }
  return out;
}

/** A listing's stamp: changes with the names and kinds the kernel would keep (tree.ts listingStamp). */
function stampOf(entries: readonly PassthroughEntry[]): number {
  let text = '';
  for (const e of entries) text += `${e.name}/${e.kind}\n`;
  // A nanosecond count: it travels as the directory's mtime nanoseconds.
  return hashLow(text) % 1_000_000_000;
}

interface KeptListing {
  at: number;
  entries: readonly PassthroughEntry[];
  stamp: number;
  /** Made on the first lookup into the directory. */
  byName?: Map<string, PassthroughEntry>;
}

/**
 * The period a listing the kernel keeps lives in: its stamp also changes at each multiple of the ttl.
 * A kept listing carries no attributes, so a walk past the names' ttl would otherwise send a LOOKUP
 * per name (8000 for /sys/kernel) where READDIRPLUS sends one request per ~25 entries; with the
 * stamp moving on, the kernel lists the directory again then, and the listing refreshes the names.
 */
function epochOf(ttl: number): number {
  return ttl > 0 ? Math.floor(Date.now() / (ttl * 1000)) : 0;
}

/**
 * root: the directory entries are found under (rel '' is root itself). ttl: seconds the kernel may
 * cache names found here (they change when the host loads a module or adds a device). keptByKernel:
 * whether the kernel may keep listings (OPENDIR): costly where the files listed are read through
 * FUSE as they are walked, since every READ makes the kernel ask for the file's attributes again at
 * the next stat (atime), which a fresh READDIRPLUS would have answered for the whole directory; but
 * a page-cached file read from its kept page sends no READ (sysctl -a in /proc/sys). pageCached: the files' contents may stay in the kernel's page cache between opens (tree.ts
 * VirtualFile.pageCached): /proc/sys's host-wide settings, which sysctl -a reads one by one. Not
 * sysfs, which stays direct I/O (a walk of /sys/kernel reads no file).
 */
export function hostPassthrough(name: string, root: string, ttl: number, keptByKernel = true, pageCached = false): PassthroughSource {
  const at = (rel: string): string => (rel === '' ? root : `${root}/${rel}`);
  const listings = new Map<string, KeptListing>();
  // A listing is as old as the kernel may keep the names it holds (ttl): a walk of /sys/kernel run
  // again within that time costs no host listing at all.
  const fresh = (rel: string): KeptListing | undefined => {
    const kept = listings.get(rel);
    return kept && performance.now() - kept.at < ttl * 1000 ? kept : undefined;
  };
  const listed = (rel: string): KeptListing => {
    const kept = fresh(rel);
    if (kept) return kept;
    const entries = listHost(at(rel));
    if (listings.size >= LISTINGS_KEPT) listings.clear();
    const made: KeptListing = { at: performance.now(), entries, stamp: stampOf(entries) };
    listings.set(rel, made);
    return made;
  };
  return {
    name,
    ttl,
    // The settings are read as the fd keeper's holders would read them (kept-open.cc): procfs
    // files at offset 0 from a procfs of their own, whoever asks.
    ...(pageCached ? { pageCached, hostFiles: true } : {}),
    list: (_caller, rel) => listed(rel).entries,
    // The same for every caller: the kernel may keep these listings (dispatch.ts OPENDIR).
    ...(keptByKernel ? { listingStamp: (rel: string) => (listed(rel).stamp + epochOf(ttl) * 7919) % 1_000_000_000 } : {}),
    stat(_caller, rel) {
      // A LOOKUP right after its directory was listed (a walk whose cached listing outlived the
      // names' ttl looks every name up) answers from that listing, as READDIRPLUS would have.
      const slash = rel.lastIndexOf('/');
      const kept = fresh(slash < 0 ? '' : rel.slice(0, slash));
      if (kept) {
        kept.byName ??= new Map(kept.entries.map((e) => [e.name, e]));
        const e = kept.byName.get(rel.slice(slash + 1));
        if (e) return e;
      }
      try {
        return entry(rel.slice(slash + 1), at(rel), fs.lstatSync(at(rel)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    // Settings (procfs, page-cached) are read often (sysctl -a); sysfs attributes are many.
    read: pageCached ? (_caller, rel) => readSetting(at(rel)) : (_caller, rel) => readHost(at(rel)),
  };
}

const ENOENT = 2;

/** source without the entries at rels (none of them listed, looked up or read). */
export function withoutEntries(source: PassthroughSource, rels: readonly string[]): PassthroughSource {
  const join = (rel: string, name: string): string => (rel === '' ? name : `${rel}/${name}`);
  const isHidden = (rel: string): boolean => rels.some((h) => rel === h || rel.startsWith(`${h}/`));
  return {
    name: source.name,
    ttl: source.ttl,
    list: (caller, rel) => source.list(caller, rel).filter((e) => !isHidden(join(rel, e.name))),
    // The underlying listing's stamp: hidden names are fixed, so it changes exactly when ours does (or more often).
    ...(source.listingStamp ? { listingStamp: (rel: string) => source.listingStamp!(rel) } : {}),
    stat: (caller, rel) => (isHidden(rel) ? undefined : source.stat(caller, rel)),
    read: (caller, rel) => {
      if (isHidden(rel)) throw Object.assign(new Error(`${rel}: hidden`), { code: 'ENOENT', errno: -ENOENT });
      return source.read(caller, rel);
    },
    ...(source.write ? { write: (caller: Caller, rel: string, data: Buffer) => (isHidden(rel) ? ENOENT : source.write!(caller, rel, data)) } : {}),
  };
}
