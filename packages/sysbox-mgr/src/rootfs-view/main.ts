// Process entry of a rootfs view (server.ts). sysbox-mgr mounts the FUSE connection at Docker's
// merged dir and has it served by this, detached (it outlives a sysbox-mgr restart), in a private
// mount namespace of its own. Two ways in:
//   node rootfs-view.js <rootfs> <uid> <gid> <size> [<host dir>=<path inside>...]
//     started under `unshare --mount --propagation private` with the connection as fd 3;
//   node rootfs-view.js --spare <fifo>
//     started ahead of time in the host's namespace (Node's start-up, ~50 ms, off the create path):
//     it waits for one assignment (a JSON line, see Assignment) on the fifo, copies the connection
//     out of sysbox-mgr (pidfd_getfd) and only then unshares its mount namespace.
// The special dirs (/var/lib/docker ...) are bound where the container sees them, then <rootfs>
// becomes the root and every other mount of the copied namespace is detached (none of the host's
// mounts, other containers' overlays included, stays pinned by us). "ready" goes to the log, then
// it serves until the mount goes away.
import fs from 'node:fs';
import path from 'node:path';
import * as native from '@sysbox/native';
import { RootfsView } from './server.js';
import { decodeRequest } from './wire.js';

export const FUSE_FD = 3;
export const MAX_WRITE = 128 * 1024;
const ENODEV = 19;

/** What sysbox-mgr sends a spare view: its container, and where the FUSE connection is. */
export interface Assignment {
  mgrPid: number;
  fuseFd: number;
  logFile: string;
  args: string[];
}

function setUp(argv: string[]): RootfsView {
  const [rootfs, uid, gid, size, ...binds] = argv;
  const ids = { uid: Number(uid), gid: Number(gid), size: Number(size) };
  if (!rootfs || !Number.isInteger(ids.uid) || !Number.isInteger(ids.gid) || !(ids.size > 0)) {
    throw new Error('usage: rootfs-view <rootfs> <uid> <gid> <size> [<host dir>=<path inside>...]');
  }
  process.umask(0);
  // From here on files are created as the container's root (the only creator the shifted rootfs takes).
  native.setFsIdsKeepCaps(ids.uid, ids.gid);
  for (const b of binds) {
    const eq = b.indexOf('=');
    const dest = path.join(rootfs, b.slice(eq + 1));
    fs.mkdirSync(dest, { recursive: true, mode: 0o755 });
    native.mount(b.slice(0, eq), dest, '', native.constants.MS_BIND);
  }
  native.pivotRootHere(rootfs);
  return new RootfsView(ids, MAX_WRITE);
}

function serve(view: RootfsView, fuseFd: number): void {
  const buf = Buffer.alloc(MAX_WRITE + 4096);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(fuseFd, buf, 0, buf.length, null);
    } catch (err) {
      if (Math.abs((err as { errno?: number }).errno ?? 0) === ENODEV) return; // unmounted
      continue; // EINTR, or ENOENT: a request interrupted before we read it
    }
    const out = view.handle(decodeRequest(buf, n));
    if (!out) continue;
    try {
      fs.writeSync(fuseFd, out);
    } catch {
      // ENOENT: its caller was interrupted meanwhile
    }
  }
}

/** Blocks until sysbox-mgr writes the assignment (opening a fifo for reading waits for a writer). */
function awaitAssignment(fifo: string): Assignment {
  const fd = fs.openSync(fifo, 'r');
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.alloc(64 * 1024);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) chunks.push(Buffer.from(buf.subarray(0, n)));
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Assignment;
  } finally {
    fs.closeSync(fd);
    fs.rmSync(fifo, { force: true });
  }
}

function runSpare(fifo: string): void {
  const job = awaitAssignment(fifo);
  const log = fs.openSync(job.logFile, 'a', 0o600);
  try {
    const fuseFd = native.pidfdGetfd(job.mgrPid, job.fuseFd);
    // All of the view's file operations are *Sync calls on this thread, so this thread's namespace is the view's.
    native.unshareMountNs();
    const view = setUp(job.args);
    process.title = `sysbox-mgr-rootfs-view ${job.args[0] ?? ''}`;
    fs.writeSync(log, 'ready\n');
    serve(view, fuseFd);
    process.exit(0);
  } catch (err) {
    fs.writeSync(log, `rootfs view: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

if (require.main === module) {
  if (process.argv[2] === '--spare') {
    runSpare(process.argv[3] ?? '');
  } else {
    try {
      const view = setUp(process.argv.slice(2));
      process.stderr.write('ready\n');
      serve(view, FUSE_FD);
      process.exit(0);
    } catch (err) {
      process.stderr.write(`rootfs view: ${(err as Error).message}\n`);
      process.exit(1);
    }
  }
}
