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
 * A /proc/sys setting's content. procfs allocates and zeroes a kernel buffer of the size asked for
 * at every read of a setting (proc_sys_call_handler: kvzalloc(count + 1)), which with readAll's
 * 64 KiB cost more than the read itself (host-passthrough.ts readSettingAt0). A setting that fills
 * the small read is read again whole.
 */
const settingBuf = Buffer.allocUnsafe(1024);

function readSetting(fd: number): string {
  const n = fs.readSync(fd, settingBuf, 0, settingBuf.length, 0);
  return n < settingBuf.length ? settingBuf.toString('utf8', 0, n) : readAll(fd);
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
