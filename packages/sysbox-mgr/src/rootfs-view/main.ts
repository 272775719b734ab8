// Process entry of a rootfs view (server.ts). sysbox-mgr mounts the FUSE connection at Docker's
// merged dir and starts this, detached (it outlives a sysbox-mgr restart), in a private mount
// namespace of its own (`unshare --mount --propagation private`) with the connection as fd 3:
//   node rootfs-view.js <rootfs> <uid> <gid> <size> [<host dir>=<path inside>...]
// The special dirs (/var/lib/docker ...) are bound where the container sees them, then <rootfs>
// becomes the root and every other mount of the copied namespace is detached (none of the host's
// mounts, other containers' overlays included, stays pinned by us). "ready" on stderr, then it
// serves until the mount goes away.
import fs from 'node:fs';
import path from 'node:path';
import * as native from '@sysbox/native';
import { RootfsView } from './server.js';
import { decodeRequest } from './wire.js';

export const FUSE_FD = 3;
export const MAX_WRITE = 128 * 1024;
const ENODEV = 19;

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

function serve(view: RootfsView): void {
  const buf = Buffer.alloc(MAX_WRITE + 4096);
  for (;;) {
    let n: number;
    try {
      n = fs.readSync(FUSE_FD, buf, 0, buf.length, null);
    } catch (err) {
      if (Math.abs((err as { errno?: number }).errno ?? 0) === ENODEV) return; // unmounted
      continue; // EINTR, or ENOENT: a request interrupted before we read it
    }
    const out = view.handle(decodeRequest(buf, n));
    if (!out) continue;
    try {
      fs.writeSync(FUSE_FD, out);
    } catch {
      // ENOENT: its caller was interrupted meanwhile
    }
  }
}

if (require.main === module) {
  try {
    const view = setUp(process.argv.slice(2));
    process.stderr.write('ready\n');
    serve(view);
    process.exit(0);
  } catch (err) {
    process.stderr.write(`rootfs view: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
