// Inner images that travel with `docker commit`. The data of an inner Docker lives in a host dir
// outside the container's rootfs (special-dirs.ts), which a commit would miss. When the container
// is paused (docker commit pauses it) that data is archived into the rootfs as
// /var/lib/sysbox-preload/<dir>.tar; a container created from such an image gets the archive
// unpacked into its own special dir. A tar file, not a tree, because the inner overlay layers hold
// whiteouts (0/0 char devices) that the outer overlay would take for its own deletions.
// Owners are stored unshifted (as the container sees them) and shifted on restore.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findMount, type MountInfo } from './mountinfo.js';

export const PRELOAD_DIR = '/var/lib/sysbox-preload';

function archiveName(specialDest: string): string {
  return `${path.basename(specialDest)}.tar`;
}

/** A GNU tar owner/group map shifting host ids base..base+size-1 down to 0..size-1. */
function writeIdMap(base: number, size: number): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sysbox-idmap-')), 'map');
  const lines: string[] = [];
  for (let k = 0; k < size; k++) lines.push(`+${base + k} +${k}`);
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Runs a command without blocking the caller's event loop; resolves with its stderr, rejects on failure. */
function runAsync(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => { if (stderr.length < 4096) stderr += d; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(stderr.trim() || `${cmd} exited with ${code ?? signal}`));
    });
  });
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
  const map = writeIdMap(uid, size);
  const gmap = gid === uid ? map : writeIdMap(gid, size);
  const outDir = path.join(rootfs, PRELOAD_DIR);
  const out = path.join(outDir, archiveName(specialDest));
  try {
    const asRoot = `setpriv --reuid=${uid} --regid=${gid} --clear-groups`;
    // Renamed only after the whole pipeline succeeded: the writer alone cannot tell a complete
    // stream from one cut short by tar's failure. A temporary name per writer, so an archive
    // left running by a manager killed half-way never meets the next one.
    const script = 'set -e -o pipefail; tmp="$5.tmp.$$"; ' +
      `trap '${asRoot} rm -f "$tmp"' ERR; ` +
      'tar -C "$2" --numeric-owner --owner-map="$3" --group-map="$4" --xattrs --xattrs-include=\'*\' -cf - . | ' +
      `${asRoot} sh -c 'mkdir -p "$0" && cat > "$1"' "$1" "$tmp"; ` +
      `${asRoot} mv -f "$tmp" "$5"` + (durable ? `; ${asRoot} sync "$5"` : '');
    try {
      await runAsync('bash', ['-c', script, 'bash', outDir, hostDir, map, gmap, out]);
    } catch (err) {
      throw new Error(`archiving ${hostDir} failed: ${(err as Error).message}`);
    }
    return true;
  } finally {
    fs.rmSync(path.dirname(map), { recursive: true, force: true });
    if (gmap !== map) fs.rmSync(path.dirname(gmap), { recursive: true, force: true });
  }
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
