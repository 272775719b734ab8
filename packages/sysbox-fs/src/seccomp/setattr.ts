// mount_setattr(2) from a container: only a call that clears MOUNT_ATTR_RDONLY matters (it is a
// read-write remount without mount(2)); mount-policy.ts decides it from the device of the mount
// the call names. Everything else (ID-mapping a detached mount, making one read-only, propagation)
// runs as the kernel decides.
import fs from 'node:fs';
import * as native from '@sysbox/native';
import type { SeccompNotif } from '@sysbox/native';
import { parseMountInfo } from '@sysbox/common/mountinfo';
import { CONTINUE, errnoOf, fail, type Answer } from './answer.js';
import { decideSetattr, devicesBelow, MOUNT_ATTR_RDONLY, type Immutability } from './mount-policy.js';
import { AT_EMPTY_PATH, AT_FDCWD, atPath, fdPath, intArg, stringArg } from './tracee.js';

const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_RECURSIVE = 0x8000;
/** struct mount_attr up to attr_clr (attr_set, attr_clr: two u64). */
const ATTR_PREFIX = 16;

/** "major:minor" of a stat's st_dev, as mountinfo writes it. */
export function deviceName(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
  const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** The device of the file the call names, and its path as the caller sees it (undefined for a detached mount's fd). */
function named(n: SeccompNotif, dfd: number, p: string, flags: number): { device: string; where?: string } {
  if (p === '' && flags & AT_EMPTY_PATH) {
    const link = dfd === AT_FDCWD ? `/proc/${n.pid}/cwd` : `/proc/${n.pid}/fd/${dfd}`;
    return { device: deviceName(fs.statSync(link, { bigint: true }).dev), where: dfd === AT_FDCWD ? undefined : fdPath(n.pid, dfd) };
  }
  const where = atPath(n.pid, dfd, p, flags);
  if (where === undefined) throw Object.assign(new Error('dirfd names nothing visible'), { errno: 9 });
  const fd = native.openInRoot(n.pid, where, (flags & AT_SYMLINK_NOFOLLOW) !== 0);
  try {
    return { device: deviceName(fs.fstatSync(fd, { bigint: true }).dev), where };
  } finally {
    fs.closeSync(fd);
  }
}

export function handleSetattr(n: SeccompNotif, ourDevice: string, im: Immutability): Answer {
  const [dfdArg = 0n, pathArg = 0n, flagsArg = 0n, attrArg = 0n, sizeArg = 0n] = n.args;
  // Too short a struct or a bad pointer: the kernel's EINVAL/EFAULT.
  if (sizeArg < BigInt(ATTR_PREFIX)) return CONTINUE;
  let clear: bigint;
  try {
    clear = native.readMemory(n.pid, attrArg, ATTR_PREFIX).readBigUInt64LE(8);
  } catch {
    return CONTINUE;
  }
  if (!(clear & BigInt(MOUNT_ATTR_RDONLY))) return CONTINUE;
  const flags = Number(flagsArg & 0xffffffffn);
  const recursive = (flags & AT_RECURSIVE) !== 0;
  let device: string;
  let where: string | undefined;
  try {
    ({ device, where } = named(n, intArg(dfdArg), stringArg(n.pid, pathArg), flags));
  } catch (e) {
    // Not found as the caller names it: refused rather than let through unchecked.
    return fail(errnoOf(e));
  }
  let below: string[] | undefined;
  if (recursive && where !== undefined) {
    const mounts = parseMountInfo(fs.readFileSync(`/proc/${n.pid}/mountinfo`, 'utf8'));
    // A detached tree's fd reads like a path too: it is the caller's mount only if one is there.
    if (mounts.some((m) => m.mountPoint === where && m.device === device)) below = devicesBelow(mounts, where);
  }
  const d = decideSetattr({ clear: Number(clear & 0xffffffffn), device, below, recursive }, ourDevice, im);
  return d.action === 'fail' ? fail(d.errno) : CONTINUE;
}
