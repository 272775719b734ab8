// Puts the virtual files into a container: each one is an open_tree clone of its file in the
// sysbox-fs mount, moved onto the same path inside the container's mount namespace (after runc
// create, before start: init is waiting, its rootfs and /proc, /sys are in place). Done this way
// rather than as OCI mounts because runc 1.1 refuses bundle mounts under /proc outside its lxcfs
// list (/proc/sys/...), and so that one mechanism also serves procfs/sysfs mounted later inside.
// What goes where, and in which order, is mount-layout.ts's.
import fs from 'node:fs';
import path from 'node:path';
import * as native from '@sysbox/native';
import { errnoName } from '../errno-name.js';
import type { VirtualBind } from '../mount-layout.js';

export type { VirtualBind };

/** Clones of each virtual file; the caller moves them and must close them. */
export function cloneSources(mountpoint: string, paths: readonly string[]): number[] {
  const fds: number[] = [];
  try {
    for (const p of paths) fds.push(native.openTreeClone(path.join(mountpoint, p), false));
    return fds;
  } catch (e) {
    for (const fd of fds) fs.closeSync(fd);
    throw e;
  }
}

/** The sources of the binds that have one, in order (what cloneSources takes). */
export const sourcesOf = (wanted: readonly VirtualBind[]): string[] => wanted.flatMap((w) => ('source' in w ? [w.source] : []));

/**
 * Register's put-back originals' targets as the host sees them, in slot's copy of the tree. Each
 * original's move_mount resolves its target through the covered directory bound just before it,
 * i.e. through FUSE: every name the kernel does not hold then (a slot resting past the names' 10 s
 * ttl, or a daemon just started) is a LOOKUP round trip inside Register, ~20 of them.
 */
export function putBackTargets(mountpoint: string, slot: number, binds: readonly VirtualBind[]): string[] {
  return binds.flatMap((b) => ('original' in b ? [path.join(mountpoint, String(slot), b.target)] : []));
}

/**
 * Looks paths up (lstat, on the thread pool: never the event loop, whatever FUSE does), so that the
 * kernel holds their names when a Register's path walks come. Missing ones are fine.
 */
export async function lookUpAhead(paths: readonly string[]): Promise<void> {
  await Promise.all(paths.map((p) => fs.promises.lstat(p).catch(() => undefined)));
}

export type NewFs = { fstype: 'proc' | 'sysfs'; targetFd: number; flags: number; data?: string };

/** Which targets are bound read-only (read-only-binds.ts). */
export type ReadOnly = (target: string) => boolean;

/**
 * Binds virtual files into pid's mount namespace (targets as pid sees them: its root and cwd, or
 * with newFs, names inside the new procfs/sysfs mounted first). A source is relative to the
 * sysbox-fs mount ("3/proc/uptime"). Returns the targets bound; targets missing in the container
 * are skipped (ENOENT). Those readOnly picks are made read-only before they are attached.
 * made: the sources' clones made before (cloneSources of the same sources), closed here like ours.
 */
export function bindVirtualFiles(pid: number, mountpoint: string, wanted: readonly VirtualBind[], newFs: NewFs | null, readOnly: ReadOnly = () => false, made?: number[]): string[] {
  const fds = made ?? cloneSources(mountpoint, sourcesOf(wanted));
  try {
    let next = 0;
    const binds = wanted.map((w) => ({ ...('source' in w ? { fd: fds[next++] } : { keep: w.target }), target: w.target, readOnly: readOnly(w.target) }));
    const res = native.mountInNs(pid, newFs, binds);
    const fail = (step: string, errno: number): Error => Object.assign(new Error(`${step} in pid ${pid}'s mount namespace: ${errnoName(errno)}`), { errno });
    if (res[0] !== 0) throw fail('entering', res[0]);
    let i = 1;
    if (newFs) {
      if (res[1] !== 0) throw fail(`mounting ${newFs.fstype}`, res[1]);
      i = 2;
    }
    const bound: string[] = [];
    binds.forEach((b, k) => {
      const rc = res[i + k];
      if (rc === 0) bound.push(b.target);
      else if (rc !== 2 /* ENOENT: the container has no such file */) throw fail(`binding ${b.target}`, rc ?? 5);
    });
    return bound;
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}
