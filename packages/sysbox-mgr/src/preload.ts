// Inner images that travel with `docker commit`. The data of an inner Docker lives in a host dir
// outside the container's rootfs (special-dirs.ts), which a commit would miss. When the container
// is paused (docker commit pauses it) that data is archived into the rootfs as
// /var/lib/sysbox-preload/<dir>.tar; a container created from such an image gets the archive
// unpacked into its own special dir. A tar file, not a tree, because the inner overlay layers hold
// whiteouts (0/0 char devices) that the outer overlay would take for its own deletions.
// Owners are stored unshifted (as the container sees them) and shifted on restore.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runAsync } from './run-async.js';
import { findMount, type MountInfo } from './mountinfo.js';

export const PRELOAD_DIR = '/var/lib/sysbox-preload';

function archiveName(specialDest: string): string {
  return `${path.basename(specialDest)}.tar`;
}

/**
 * Archives a special dir (ids shifted down to the container's view) into the container's rootfs.
 * The archive is written by a process running as the container's root host id, the only writer the
 * ID-shifted rootfs accepts for files owned by root inside. Asynchronous: the data flows from tar
 * to the writer through a pipe between child processes, never through the manager, whose other
 * requests are served meanwhile. The archive appears under its name only once complete: a reader
 * (docker commit) never sees half of one, and a failed or killed tar leaves the previous one.
 * `durable` (on a stop) also flushes the archive to disk in the child: otherwise the unmount of
 * the rootfs right after would, on the manager's event loop (~220 ms for 192 MiB).
 */
export async function saveSpecialDir(hostDir: string, rootfs: string, specialDest: string, uid: number, gid: number, size: number, durable = false): Promise<boolean> {
  if ((await fs.promises.readdir(hostDir)).length === 0) return false;
  const outDir = path.join(rootfs, PRELOAD_DIR);
  const out = path.join(outDir, archiveName(specialDest));
  const asRoot = `setpriv --reuid=${uid} --regid=${gid} --clear-groups`;
  // The id maps (65536 lines each, ~40 ms to write from Node) are made by the child too.
  // Renamed only after the whole pipeline succeeded: the writer alone cannot tell a complete
  // stream from one cut short by tar's failure. A temporary name per writer, so an archive
  // left running by a manager killed half-way never meets the next one.
  const script = 'set -e -o pipefail; maps=$(mktemp -d "$7/sysbox-idmap-XXXXXX"); trap \'rm -rf "$maps"\' EXIT; ' +
    'tmp="$5.tmp.$$"; ' +
    `trap '${asRoot} rm -f "$tmp"' ERR; ` +
    'idmap() { awk -v b="$1" -v n="$2" \'BEGIN { for (k = 0; k < n; k++) print "+" b + k " +" k }\'; }; ' +
    'idmap "$3" "$6" > "$maps/uid"; idmap "$4" "$6" > "$maps/gid"; ' +
    'tar -C "$2" --numeric-owner --owner-map="$maps/uid" --group-map="$maps/gid" --xattrs --xattrs-include=\'*\' -cf - . | ' +
    `${asRoot} sh -c 'mkdir -p "$0" && cat > "$1"' "$1" "$tmp"; ` +
    `${asRoot} mv -f "$tmp" "$5"` + (durable ? `; ${asRoot} sync "$5"` : '');
  try {
    await runAsync('bash', ['-c', script, 'bash', outDir, hostDir, String(uid), String(gid), out, String(size), os.tmpdir()]);
  } catch (err) {
    throw new Error(`archiving ${hostDir} failed: ${(err as Error).message}`);
  }
  return true;
}

/**
 * Whether the archive can go into the rootfs now. sysbox-mgr's own shifted rootfs stays mounted
 * until it releases the container; Docker's rootfs used as is (userns-remap) is unmounted by Docker
 * once the container stops, maybe before sysbox-mgr releases it, and the archive would then land in
 * the bare mount point dir instead of the container.
 */
export function canArchiveInto(rootfs: string, ownRootfs: boolean, mounts: () => MountInfo[]): boolean {
  // mountinfo is read only when it matters: it grows with every container on the host.
  return ownRootfs || findMount(mounts(), rootfs) !== undefined;
}

function shiftTree(dir: string, uid: number, gid: number): void {
  const st = fs.lstatSync(dir);
  fs.lchownSync(dir, st.uid + uid, st.gid + gid);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) shiftTree(p, uid, gid);
    else {
      const s = fs.lstatSync(p);
      fs.lchownSync(p, s.uid + uid, s.gid + gid);
    }
  }
}

/** Unpacks an image's archive (if any) into a fresh special dir, shifting owners to the container's range. */
export function restoreSpecialDir(rootfs: string, specialDest: string, hostDir: string, uid: number, gid: number): boolean {
  const archive = path.join(rootfs, PRELOAD_DIR, archiveName(specialDest));
  if (!fs.existsSync(archive)) return false;
  const r = spawnSync('tar', ['-C', hostDir, '--numeric-owner', '--same-owner', '--same-permissions', '--xattrs', "--xattrs-include=*", '-xf', archive], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`unpacking ${archive} failed: ${r.stderr.trim()}`);
  shiftTree(hostDir, uid, gid);
  return true;
}
