// What to do with a trapped mount/umount2. Everything is left to the kernel except:
//  - a new procfs or sysfs: mounted for the caller by sysbox-fs, with the virtual files bound on
//    top, so an inner container or a chroot sees the same virtual files as the container;
//  - unmounting, or remounting read-write, a protected mount: EPERM. Protected are the virtual
//    files anywhere (mounts of our FUSE connection, told apart by its device number), and in the container's initial mount namespace the read-only and masking
//    mounts below /proc and /sys that runc set up (removing them would expose the host's files).
export const MS_RDONLY = 0x1;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_MOVE = 0x2000;
const MS_PROPAGATION = 0x20000 | 0x40000 | 0x80000 | 0x100000; // UNBINDABLE PRIVATE SLAVE SHARED
const MS_MGC_MSK = 0xffff0000;
const MS_MGC_VAL = 0xc0ed0000;
export const EPERM = 1;

export interface MountEntry {
  /** "major:minor" of the file system (our FUSE connection's tells our virtual files apart). */
  device: string;
  mountPoint: string;
  /** Path of the mounted dir/file within its file system ("/null" for a /dev/null mask). */
  root: string;
  options: string[];
  fstype: string;
}

export type Decision =
  | { action: 'continue' }
  | { action: 'fail'; errno: number }
  | { action: 'mount-fs'; fstype: 'proc' | 'sysfs'; flags: number; data: string };

/** Mount flags without the legacy magic number old callers put in the high bits. */
export function cleanFlags(flags: number): number {
  return (flags & MS_MGC_MSK) >>> 0 === MS_MGC_VAL ? flags & ~MS_MGC_MSK : flags;
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const f = line.slice(0, sep).split(' ');
    const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ device: f[2], root: unescape(f[3]), mountPoint: unescape(f[4]), options: f[5].split(','), fstype: line.slice(sep + 3).split(' ')[0] });
  }
  return out;
}

function isProtected(target: string, mounts: readonly MountEntry[], initialNs: boolean, ourDevice: string): boolean {
  const top = [...mounts].reverse().find((m) => m.mountPoint === target);
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

export function decide(call: MountCall, mounts: () => readonly MountEntry[], initialNs: boolean, ourDevice: string): Decision {
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
