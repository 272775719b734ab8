// ID-shifted mounts without chown or copy: ID-mapped clones of the rootfs layers (and of every
// bind source) through a user namespace holding the container's mapping. Files on disk keep their
// real owners (host root stays uid 0, so `docker commit` sees normal ownership) while the container's
// root, an unprivileged host id, owns them inside. Recipe and its traps: shared/notes/platform-facts.md.
import fs from 'node:fs';
import path from 'node:path';
import * as native from '@sysbox/native';
import { findMount, overlayLayers, parseMountInfo, type OverlayLayers } from './mountinfo.js';

const { MNT_DETACH, MS_BIND } = native.constants;

export interface Mapping { uid: number; gid: number; size: number }

/** A user namespace fd for the mapping; close it once the mounts are made. */
export function openMappingUserns(m: Mapping): number {
  return native.createUserns(`0 ${m.uid} ${m.size}\n`, `0 ${m.gid} ${m.size}\n`);
}

function idmappedClone(source: string, usernsFd: number): number {
  const fd = native.openTreeClone(source, false);
  try {
    native.setIdmap(fd, usernsFd);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

export interface ShiftResult {
  /** Mount points created, in order (release in reverse). */
  mounts: string[];
  /** Docker's overlay that was taken down (its mount point now empty), '' if none, and its mount options. */
  replaced: string;
  replacedOptions: string;
}

/**
 * Makes an ID-shifted view of `rootfs` at `target` (an existing empty dir).
 * Docker's overlay rootfs is rebuilt over ID-mapped layer clones, mounted with the container root's
 * fsuid so the kernel keeps it writable. Docker's mount point is left empty: the caller puts the
 * rootfs view there (rootfs-view/), through which `docker cp` sees the container's files with the
 * owners Docker expects. A plain directory gets an ID-mapped bind.
 * `onMount` is told of every mount point as soon as it exists, so a crash leaves a record.
 */
export function shiftRootfs(rootfs: string, target: string, m: Mapping, usernsFd: number, onMount: (p: string) => void): ShiftResult {
  const mounts = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  const own = findMount(mounts, rootfs);
  const layers = own?.fsType === 'overlay' ? overlayLayers(own.superOptions) : undefined;
  if (!layers) {
    const fd = idmappedClone(rootfs, usernsFd);
    try {
      native.moveMount(fd, target);
    } finally {
      fs.closeSync(fd);
    }
    onMount(target);
    return { mounts: [target], replaced: '', replacedOptions: '' };
  }
  if (path.dirname(layers.upper) !== path.dirname(layers.work)) {
    throw new Error(`overlay at ${rootfs}: upperdir and workdir must share a parent to be ID-mapped together`);
  }
  const fds: number[] = [];
  try {
    // /proc/self/fd/N names the detached clones directly: nothing to attach, and short paths keep
    // many-layer option strings under the page-size limit of mount(2).
    const lowers = layers.lower.map((l) => {
      const fd = idmappedClone(l, usernsFd);
      fds.push(fd);
      return `/proc/self/fd/${fd}`;
    });
    const parentFd = idmappedClone(path.dirname(layers.upper), usernsFd);
    fds.push(parentFd);
    const parent = `/proc/self/fd/${parentFd}`;
    const data = overlayData({ ...layers, lower: lowers, upper: `${parent}/${path.basename(layers.upper)}`, work: `${parent}/${path.basename(layers.work)}` });
    // Two overlays on one upper dir at once corrupt it: take Docker's down first.
    native.umount(rootfs, MNT_DETACH);
    allowVolatileRemount(layers);
    try {
      native.mountAs(m.uid, m.gid, 'overlay', target, 'overlay', 0, data);
    } catch (err) {
      try {
        remountOverlay(own!.superOptions, rootfs);
      } catch {
        // Docker mounts it again on the next start.
      }
      throw err;
    }
    onMount(target);
    return { mounts: [target], replaced: rootfs, replacedOptions: own!.superOptions };
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

/**
 * Puts Docker's own overlay back where we took it down. Docker believes it is still mounted (on
 * `docker restart` it keeps its reference and mounts nothing), so leaving the dir empty would
 * start the next container on an empty rootfs.
 */
export function remountOverlay(superOptions: string, rootfs: string): void {
  const l = overlayLayers(superOptions);
  if (!l) return;
  const current = findMount(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), rootfs);
  if (current) return;
  allowVolatileRemount(l);
  native.mount('overlay', rootfs, 'overlay', 0, overlayData(l));
}

function overlayData(l: OverlayLayers): string {
  return `lowerdir=${l.lower.join(':')},upperdir=${l.upper},workdir=${l.work}${l.volatile ? ',volatile' : ''}`;
}

/**
 * A `volatile` overlay leaves `work/incompat/volatile` in its work dir, and the kernel refuses any
 * later mount on that work dir while it is there (its sign of a crash that may have lost unsynced
 * writes). Here the previous overlay was unmounted, not crashed, and its writes sit in the page
 * cache of the same upper files the next overlay reads, so the marker is removed, as its owner
 * (containers/storage) does before mounting such a layer again. The next overlay keeps `volatile`.
 */
function allowVolatileRemount(l: OverlayLayers): void {
  if (l.volatile) fs.rmSync(path.join(l.work, 'work', 'incompat', 'volatile'), { recursive: true, force: true });
}

/** Creates an empty file or dir at target, matching source, to mount it on. */
function mountPointFor(source: string, target: string): void {
  if (fs.statSync(source).isDirectory()) fs.mkdirSync(target, { recursive: true });
  else fs.writeFileSync(target, '', { flag: 'a' });
}

/** A plain bind of a source at `target`: reachable inside, its owners show as nobody. */
export function plainBind(source: string, target: string): void {
  mountPointFor(source, target);
  native.mount(source, target, '', MS_BIND);
}

export class IdmapUnsupportedError extends Error {
  constructor(readonly source: string, readonly code: string) {
    super(`${source} cannot be ID-mapped (${code}: its file system does not support ID-mapped mounts)`);
  }
}

/**
 * An ID-mapped view of a bind source at `target` (created as an empty file or dir to match).
 * A file system that cannot be ID-mapped gets a plain bind (owners show as nobody inside), or,
 * with `fallback` false, an IdmapUnsupportedError and nothing mounted.
 */
export function idmapBind(source: string, target: string, usernsFd: number, fallback = true): { idmapped: boolean } {
  mountPointFor(source, target);
  let fd: number | undefined;
  try {
    fd = idmappedClone(source, usernsFd);
    native.moveMount(fd, target);
    return { idmapped: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EOPNOTSUPP') throw err;
    if (!fallback) throw new IdmapUnsupportedError(source, code);
    native.mount(source, target, '', MS_BIND);
    return { idmapped: false };
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Whether `rootfs` is an overlay mount (Docker's), whose layers the default shifting ID-maps. */
export function isOverlayMount(rootfs: string): boolean {
  return findMount(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')), rootfs)?.fsType === 'overlay';
}

/** Lazily unmounts; a path that is no longer a mount point is fine. */
export function releaseMount(p: string): void {
  try {
    native.umount(p, MNT_DETACH);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOENT') throw err;
  }
}

/** Mount points at or below dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  return parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'))
    .map((m) => m.mountPoint)
    .filter((p) => p === dir || p.startsWith(prefix))
    .sort((a, b) => b.length - a.length);
}
