// What to do with a trapped mount/umount2. Everything is left to the kernel except:
//  - a new procfs or sysfs: mounted for the caller by sysbox-fs, with the virtual files bound on
//    top, so an inner container or a chroot sees the same virtual files as the container;
//  - unmounting, or remounting read-write, a protected mount: EPERM. Protected are the virtual
//    files anywhere (mounts of our FUSE connection, told apart by its device number), and in the
//    container's initial mount namespace the read-only and masking mounts below /proc and /sys
//    that runc set up (removing them would expose the host's files);
//  - the container's initial mounts (as runc left them, recorded by Register) are immutable, as in
//    the original (docs/user-guide/security.md, "Initial Mount Immutability"): an initial read-only
//    mount cannot be remounted read-write unless --allow-immutable-remounts, and no initial mount
//    can be unmounted with --allow-immutable-unmounts=false; the container's root never. Mount ids
//    differ in another mount namespace (unshare -m) and a chroot shows other paths, so a mount is
//    told initial by what it mounts: its file system (device) and the path within it (root), which
//    every copy and every view of it keep. A mount stacked on another at the same mount point is
//    not protected: it is how pivot_root(".", ".") leaves the old root, which the pivoting
//    process (an inner runc) unmounts next.
//  - mount_setattr clearing MOUNT_ATTR_RDONLY is a read-write remount by other means: refused on
//    the virtual files, and on a mount of a file system one of the initial read-only mounts is on
//    (without --allow-immutable-remounts; always for those below /proc and /sys). Told by device
//    alone (the call may name a detached mount, which no mountinfo lists), which errs on refusing.
import { findMount, pathWithin, type MountInfo } from '@sysbox/common/mountinfo';

export const MS_RDONLY = 0x1;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
const MS_PROPAGATION = 0x20000 | 0x40000 | 0x80000 | 0x100000; // UNBINDABLE PRIVATE SLAVE SHARED
const MS_MGC_MSK = 0xffff0000;
const MS_MGC_VAL = 0xc0ed0000;
export const EPERM = 1;

export type Decision =
  | { action: 'continue' }
  | { action: 'fail'; errno: number }
  | { action: 'mount-fs'; fstype: 'proc' | 'sysfs'; flags: number; data: string };

/** Mount flags without the legacy magic number old callers put in the high bits. */
export function cleanFlags(flags: number): number {
  return (flags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL ? flags & ~MS_MGC_MSK : flags;
}

/** A mount of the container as runc left it. */
export interface InitialMount {
  device: string;
  root: string;
  mountPoint: string;
  ro: boolean;
}

export interface Immutability {
  /** Empty when unknown (a container registered by an older sysbox-fs): nothing is protected then. */
  initial: readonly InitialMount[];
  allowRemounts: boolean;
  allowUnmounts: boolean;
}

const MUTABLE: Immutability = { initial: [], allowRemounts: true, allowUnmounts: true };

/**
 * The mount an unmount or remount of target acts on: of the mounts at target, the one no other is
 * stacked on (mountinfo's order does not say; after pivot_root(".", ".") the new root may be
 * listed after the old one stacked on it).
 */
function topMount(mounts: MountInfo[], target: string): MountInfo | undefined {
  const at = mounts.filter((m) => m.mountPoint === target);
  return at.filter((m) => !at.some((o) => o.parent === m.id && o !== m)).at(-1) ?? at.at(-1);
}

/** The initial mount `top` is a copy or view of, unless it is stacked on a mount at its own mount point. */
function initialOf(top: MountInfo, mounts: MountInfo[], initial: readonly InitialMount[]): InitialMount | undefined {
  if (mounts.some((m) => m.id === top.parent && m.mountPoint === top.mountPoint)) return undefined;
  return initial.find((i) => i.device === top.device && i.root === top.root);
}

/** The initial mounts of a container from its init's mountinfo (the virtual files excluded: always protected). */
export function initialMounts(mounts: MountInfo[]): InitialMount[] {
  return mounts.filter((m) => m.fsType !== 'fuse.sysboxfs').map((m) => ({ device: m.device, root: m.root, mountPoint: m.mountPoint, ro: m.options.includes('ro') }));
}

function isProtected(target: string, mounts: MountInfo[], initialNs: boolean, ourDevice: string): boolean {
  const top = findMount(mounts, target);
  if (!top) return false;
  // Ours only: a sysbox-fs running inside the container may manage mounts of its own.
  if (top.device === ourDevice) return true;
  if (!initialNs) return false;
  const below = /^\/(proc|sys)\/./.test(target);
  return below && (top.options.includes('ro') || top.root === '/null');
}

/** mount_setattr(2)'s MOUNT_ATTR_RDONLY. */
export const MOUNT_ATTR_RDONLY = 0x1;

export interface SetattrCall {
  /** What attr_clr clears. */
  clear: number;
  /** Device ("major:minor") of the mount the call names. */
  device: string;
  /**
   * With AT_RECURSIVE: the devices of every mount below it; undefined when unknown (a detached
   * tree), which is refused when it clears read-only.
   */
  below?: string[];
  recursive: boolean;
}

/** Whether clearing read-only on a mount of this device is refused. */
function rwRefused(device: string, ourDevice: string, im: Immutability): boolean {
  if (device === ourDevice) return true;
  return im.initial.some((i) => i.ro && i.device === device && (!im.allowRemounts || /^\/(proc|sys)\/./.test(i.mountPoint)));
}

export function decideSetattr(call: SetattrCall, ourDevice: string, im: Immutability = MUTABLE): Decision {
  if (!(call.clear & MOUNT_ATTR_RDONLY)) return { action: 'continue' };
  if (call.recursive && call.below === undefined) return { action: 'fail', errno: EPERM };
  const devices = [call.device, ...(call.recursive ? call.below ?? [] : [])];
  return devices.some((d) => rwRefused(d, ourDevice, im)) ? { action: 'fail', errno: EPERM } : { action: 'continue' };
}

/** Devices of the mounts strictly below mountPoint (a recursive mount_setattr's reach). */
export function devicesBelow(mounts: readonly MountInfo[], mountPoint: string): string[] {
  return mounts.filter((m) => m.mountPoint !== mountPoint && pathWithin(mountPoint, m.mountPoint)).map((m) => m.device);
}

export interface MountCall {
  kind: 'mount' | 'umount';
  /** Resolved to an absolute path as the caller sees it. */
  target: string;
  source?: string;
  fstype?: string;
  flags: number;
  data?: string;
}

function umountRefused(target: string, mounts: MountInfo[], initialNs: boolean, ourDevice: string, im: Immutability): boolean {
  if (isProtected(target, mounts, initialNs, ourDevice)) return true;
  const top = topMount(mounts, target);
  const initial = top && initialOf(top, mounts, im.initial);
  if (!initial) return false;
  // The root: a lazy unmount would leave the container without one (the original never allows it).
  return initial.mountPoint === '/' || !im.allowUnmounts;
}

function remountRwRefused(target: string, mounts: MountInfo[], initialNs: boolean, ourDevice: string, im: Immutability): boolean {
  if (isProtected(target, mounts, initialNs, ourDevice)) return true;
  if (im.allowRemounts) return false;
  const top = topMount(mounts, target);
  return (top && initialOf(top, mounts, im.initial)?.ro) === true;
}

export function decide(call: MountCall, mounts: () => MountInfo[], initialNs: boolean, ourDevice: string, im: Immutability = MUTABLE): Decision {
  if (call.kind === 'umount') return umountRefused(call.target, mounts(), initialNs, ourDevice, im) ? { action: 'fail', errno: EPERM } : { action: 'continue' };
  const flags = cleanFlags(call.flags);
  if (flags & MS_REMOUNT) {
    return !(flags & MS_RDONLY) && remountRwRefused(call.target, mounts(), initialNs, ourDevice, im) ? { action: 'fail', errno: EPERM } : { action: 'continue' };
  }
  if (flags & (MS_BIND | MS_MOVE | MS_PROPAGATION)) return { action: 'continue' };
  if (call.fstype === 'proc' || call.fstype === 'sysfs') {
    return { action: 'mount-fs', fstype: call.fstype, flags, data: call.data ?? '' };
  }
  return { action: 'continue' };
}
