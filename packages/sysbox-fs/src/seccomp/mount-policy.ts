// What to do with a trapped mount/umount2. Everything is left to the kernel except:
//  - a new procfs or sysfs: mounted for the caller by sysbox-fs, with the virtual files bound on
//    top, so an inner container or a chroot sees the same virtual files as the container;
//  - unmounting, or remounting read-write, a protected mount: EPERM. Protected are the virtual
//    files anywhere (mounts of our FUSE connection, told apart by its device number), and in the
//    container's initial mount namespace the read-only and masking mounts below /proc and /sys
//    that runc set up (removing them would expose the host's files).
import { findMount, type MountInfo } from '@sysbox/common/mountinfo';

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

function isProtected(target: string, mounts: MountInfo[], initialNs: boolean, ourDevice: string): boolean {
  const top = findMount(mounts, target);
  if (!top) return false;
  // Ours only: a sysbox-fs running inside the container may manage mounts of its own.
  if (top.device === ourDevice) return true;
  if (!initialNs) return false;
  const below = /^\/(proc|sys)\/./.test(target);
  return below && (top.options.includes('ro') || top.root === '/null');
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

export function decide(call: MountCall, mounts: () => MountInfo[], initialNs: boolean, ourDevice: string): Decision {
  if (call.kind === 'umount') return isProtected(call.target, mounts(), initialNs, ourDevice) ? { action: 'fail', errno: EPERM } : { action: 'continue' };
  const flags = cleanFlags(call.flags);
  if (flags & MS_REMOUNT) {
    return !(flags & MS_RDONLY) && isProtected(call.target, mounts(), initialNs, ourDevice) ? { action: 'fail', errno: EPERM } : { action: 'continue' };
  }
  if (flags & (MS_BIND | MS_MOVE | MS_PROPAGATION)) return { action: 'continue' };
  if (call.fstype === 'proc' || call.fstype === 'sysfs') {
    return { action: 'mount-fs', fstype: call.fstype, flags, data: call.data ?? '' };
  }
  return { action: 'continue' };
}
