// The rootfs without ID-mapped layers (--disable-idmapped-mount, --disable-ovfs-on-idmapped-mount):
// its owners are shifted with chown into the container's range, and back when it stops, as the
// original Sysbox does on hosts without shiftfs or ID-mapping.
//
// - clone (default): a private overlay over the rootfs (the lower, never written) with metacopy=on
//   and its upper under <data-root>/rootfs/<id>. The chown then copies up metadata only, no file
//   data, and the image's layers are untouched. On stop the owners are shifted back and what the
//   container changed is carried into the rootfs (Docker's upper layer), so a restart, docker
//   commit and docker diff see it; the clone is then discarded.
// - in place (--disable-rootfs-cloning): the rootfs itself is chowned (through Docker's overlay
//   every file is copied up whole into Docker's upper layer: slow for big images) and chowned back.
// Both reach the rootfs through a private bind held by sysbox-mgr: Docker may unmount its overlay
// before the release, and a write-back must not land in the bare mount point dir.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as native from '@sysbox/native';
import { shiftedId, shiftEntry, shiftTreeIds, type IdRange } from './chown-shift.js';
import { planWriteBack, type WriteBackPlan } from './clone-sync.js';
import { findMount, parseMountInfo } from './mountinfo.js';

const { MS_BIND, MS_PRIVATE, MNT_DETACH } = native.constants;

export interface ChownedRootfs {
  mode: 'clone' | 'in-place';
  /** Private bind of the container's original rootfs. */
  orig: string;
  /** Where the container's rootfs is mounted (the clone's overlay, or a bind of orig). */
  target: string;
  /** Holds orig, and the clone's upper/work: removed on release. */
  dir: string;
}

function bindPrivate(source: string, target: string): void {
  native.mount(source, target, '', MS_BIND);
  native.mount('', target, '', MS_PRIVATE);
}

/**
 * Mounts the rootfs at target (an existing empty dir) with owners shifted into the range.
 * `onMount` is told of every mount point as soon as it exists.
 */
export function chownRootfs(rootfs: string, target: string, dir: string, r: IdRange, clone: boolean, onMount: (p: string) => void): ChownedRootfs {
  const orig = path.join(dir, 'orig');
  fs.mkdirSync(orig, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  bindPrivate(rootfs, orig);
  onMount(orig);
  if (clone) {
    const upper = path.join(dir, 'upper');
    const work = path.join(dir, 'work');
    fs.mkdirSync(upper, { mode: 0o755 });
    fs.mkdirSync(work, { mode: 0o700 });
    native.mount('overlay', target, 'overlay', 0, `lowerdir=${orig},upperdir=${upper},workdir=${work},metacopy=on`);
  } else {
    bindPrivate(orig, target);
  }
  onMount(target);
  shiftTreeIds(target, r, true);
  return { mode: clone ? 'clone' : 'in-place', orig, target, dir };
}

/** Tar of the listed paths (relative, NUL separated) from one tree into another, owners and modes kept. */
function copyPaths(from: string, to: string, rel: string[]): void {
  if (rel.length === 0) return;
  const list = `${rel.join('\0')}\0`;
  const script = 'set -e -o pipefail; tar -C "$1" --numeric-owner --null --no-recursion -T - -cf - | tar -C "$2" --numeric-owner --same-owner --same-permissions -xf -';
  const r = spawnSync('bash', ['-c', script, 'bash', from, to], { input: list, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`copying the container's changes into ${to} failed: ${r.stderr.trim()}`);
}

/** Applies a plan; what it copies gets its owners shifted down (a no-op once the clone is shifted back). */
function applyWriteBack(plan: WriteBackPlan, merged: string, orig: string, r: IdRange): void {
  for (const rel of plan.remove) fs.rmSync(path.join(orig, rel), { recursive: true, force: true });
  copyPaths(merged, orig, plan.copy);
  for (const rel of plan.copy) {
    const p = path.join(orig, rel);
    shiftEntry(p, fs.lstatSync(p), r, false);
  }
  for (const { rel, uid, gid, mode } of plan.meta) {
    const p = path.join(orig, rel);
    fs.lchownSync(p, uid, gid);
    if (mode !== undefined) fs.chmodSync(p, mode);
  }
}

/**
 * A running (paused) clone's changes written into the original rootfs with owners as the container
 * sees them, so `docker commit` (which pauses) carries them. Only paths in the clone's upper dir
 * are written, which the clone itself shows from there: the container's view does not change.
 * Returns false when there is nothing to do (in place: the rootfs is the container's own).
 */
export function writeBackRunning(c: ChownedRootfs, r: IdRange): boolean {
  if (c.mode !== 'clone') return false;
  const down = (id: number, isGid: boolean): number => shiftedId(id, isGid ? r.gid : r.uid, r.size, false) ?? id;
  applyWriteBack(planWriteBack(path.join(c.dir, 'upper'), c.target, c.orig, down), c.target, c.orig, r);
  return true;
}

/**
 * Shifts the owners back and, for a clone, carries the container's changes into the rootfs;
 * unmounts and removes everything chownRootfs made. Safe to repeat after a crash half-way.
 */
export function unchownRootfs(c: ChownedRootfs, r: IdRange): void {
  const mounts = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const mounted = (p: string): boolean => findMount(mounts, p) !== undefined;
  if (mounted(c.target)) {
    shiftTreeIds(c.target, r, false);
    if (c.mode === 'clone' && mounted(c.orig)) {
      applyWriteBack(planWriteBack(path.join(c.dir, 'upper'), c.target, c.orig), c.target, c.orig, r);
    }
  } else if (c.mode === 'in-place' && mounted(c.orig)) {
    shiftTreeIds(c.orig, r, false);
  }
  for (const p of [c.target, c.orig]) {
    try {
      native.umount(p, MNT_DETACH);
    } catch {
      // not mounted (any more)
    }
  }
  fs.rmSync(c.dir, { recursive: true, force: true });
}
