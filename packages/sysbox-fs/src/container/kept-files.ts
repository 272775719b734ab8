// Files rendered again on every read of a virtual file (the host's /proc files, cgroup files) are
// kept open and re-read with pread at offset 0, which makes procfs and cgroupfs generate them
// afresh: one syscall instead of readFileSync's open, fstat, read, read, close and a path walk.
// A cgroup removed since (its container gone) fails the read with ENODEV: the fd is dropped and the
// path opened again, which finds a new cgroup of the same name or fails as a first open would.
// Per worker thread (module state); at most MAX_OPEN fds each, the oldest closed first. A removed
// container's cgroup files are closed when the set of containers changes (dropKeptUnder), not
// only when they fall out of the cache: an fd held on a removed cgroup keeps it (and its
// memory) as a dying cgroup in the kernel, and a daemon's fds must not grow with containers gone.
import fs from 'node:fs';

const MAX_OPEN = 256;
const fds = new Map<string, number>();
let buf = Buffer.allocUnsafe(64 * 1024);

/** All of fd's content: one pread, unless the buffer fills (then it grows and reads the rest). */
function readAll(fd: number): string {
  let n = 0;
  for (;;) {
    const space = buf.length - n;
    const r = fs.readSync(fd, buf, n, space, n);
    n += r;
    // A short read is the end: procfs and cgroupfs fill the buffer while they have content.
    if (r < space) return buf.toString('utf8', 0, n);
    const bigger = Buffer.allocUnsafe(buf.length * 2);
    buf.copy(bigger, 0, 0, n);
    buf = bigger;
  }
}

/**
 * Per thread: a /proc/sys setting's first read. procfs allocates, and zeroes, a kernel buffer of the
 * size asked for at every read of a setting (proc_sys_call_handler: kvzalloc(count + 1)): with a
 * 64 KiB buffer that was an order-5 allocation and 17 cleared pages per read, 3.4–4.3 µs of a 1.1 µs
 * read (measured over 250 settings). A setting is a few dozen bytes.
 */
const settingBuf = Buffer.allocUnsafe(1024);

/**
 * The setting fd reads at offset 0, as a view into a per-thread buffer (valid until the next call),
 * or undefined if it filled that buffer: the caller then reads it whole, again from offset 0 (procfs
 * answers a read past 0 of a number table with nothing).
 */
export function shortSettingAt0(fd: number): Buffer | undefined {
  const n = fs.readSync(fd, settingBuf, 0, settingBuf.length, 0);
  return n < settingBuf.length ? settingBuf.subarray(0, n) : undefined;
}

function readSetting(fd: number): string {
  return shortSettingAt0(fd)?.toString('utf8') ?? readAll(fd);
}

function readerFor(p: string): (fd: number) => string {
  return p.startsWith('/proc/sys/') ? readSetting : readAll;
}

function drop(p: string, fd: number): void {
  fds.delete(p);
  try { fs.closeSync(fd); } catch { /* already gone */ }
}

/** The file's content now; throws like fs.readFileSync when it cannot be opened or read. */
export function readKept(p: string): string {
  const read = readerFor(p);
  const kept = fds.get(p);
  if (kept !== undefined) {
    try {
      return read(kept);
    } catch {
      drop(p, kept);
    }
  }
  const fd = fs.openSync(p, 'r');
  let text: string;
  try {
    text = read(fd);
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
  if (fds.size >= MAX_OPEN) {
    const [oldPath, oldFd] = fds.entries().next().value as [string, number];
    drop(oldPath, oldFd);
  }
  fds.set(p, fd);
  return text;
}

/** Closes the kept fds of files below dir (e.g. the cgroup mounts, when containers went away). */
export function dropKeptUnder(dir: string): number {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  let n = 0;
  for (const [p, fd] of [...fds]) {
    if (p.startsWith(prefix)) {
      drop(p, fd);
      n++;
    }
  }
  return n;
}

/** How many fds are kept open (for tests). */
export function keptCount(): number {
  return fds.size;
}
