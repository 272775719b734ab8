// SYSBOX_ALLOW_TRUSTED_XATTR: the kernel refuses trusted.* xattrs to every user namespace but the
// initial one, yet an inner Docker's overlayfs marks opaque directories with trusted.overlay.opaque.
// With the knob the *xattr family is trapped; for the names the original allows, a caller with
// CAP_SYS_ADMIN (in its namespace) gets the operation done by sysbox-fs as host root, on the file it
// names, found through its own root (openat2 RESOLVE_IN_ROOT on /proc/<pid>/root: never outside
// what the caller can reach). listxattr is answered from the host's list too, so such names show,
// without the trusted.* names the caller could not see anyway. Everything else runs as the kernel
// decides.
import fs from 'node:fs';
import * as native from '@sysbox/native';
import type { SeccompNotif } from '@sysbox/native';
import { CONTINUE, errnoOf, fail, ok, type Answer } from './answer.js';
import type { TrappedCall } from './syscalls.js';
import { hasSysAdmin, intArg, resolvePath, stringArg } from './tracee.js';

/** The trusted.* names the original lets a container set (nestybox/sysbox-fs seccomp/xattr.go). */
export const ALLOWED_XATTRS: ReadonlySet<string> = new Set(['trusted.overlay.opaque']);
const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;
const EPERM = 1;
const E2BIG = 7;
const ERANGE = 34;

type Op = 'set' | 'get' | 'remove' | 'list';
type Target = 'path' | 'lpath' | 'fd';

const CALLS: Partial<Record<TrappedCall, [Op, Target]>> = {
  setxattr: ['set', 'path'], lsetxattr: ['set', 'lpath'], fsetxattr: ['set', 'fd'],
  getxattr: ['get', 'path'], lgetxattr: ['get', 'lpath'], fgetxattr: ['get', 'fd'],
  removexattr: ['remove', 'path'], lremovexattr: ['remove', 'lpath'], fremovexattr: ['remove', 'fd'],
  listxattr: ['list', 'path'], llistxattr: ['list', 'lpath'], flistxattr: ['list', 'fd'],
};

/** The names of a NUL-separated list the caller may see: all but other trusted.* ones. */
export function visibleNames(list: Buffer): Buffer {
  const names = list.toString('latin1').split('\0').filter((n) => n !== '');
  const kept = names.filter((n) => !n.startsWith('trusted.') || ALLOWED_XATTRS.has(n));
  return Buffer.from(kept.map((n) => `${n}\0`).join(''), 'latin1');
}

/** Whether a trapped call is ours to carry out (the pure part of the decision). */
export function handlesXattr(op: Op, name: string | undefined, sysAdmin: boolean): 'host' | 'continue' | 'eperm' {
  if (op !== 'list' && !ALLOWED_XATTRS.has(name ?? '')) return 'continue';
  if (!sysAdmin) return op === 'list' ? 'continue' : 'eperm';
  return 'host';
}

/**
 * Answers a trapped *xattr call. stillValid is checked after the caller's memory was read and
 * before anything is done for it (its pid could have been reused meanwhile).
 */
export function handleXattr(call: TrappedCall, n: SeccompNotif, stillValid: () => boolean): Answer {
  const spec = CALLS[call];
  if (!spec) return CONTINUE;
  const [op, target] = spec;
  const name = op === 'list' ? undefined : stringArg(n.pid, n.args[1], XATTR_NAME_MAX + 1);
  const verdict = handlesXattr(op, name, hasSysAdmin(n.pid));
  if (verdict === 'continue') return CONTINUE;
  if (verdict === 'eperm') return fail(EPERM);
  // Arguments: (path|fd, name, value, size, flags) for set/get, (path|fd, name) for remove,
  // (path|fd, list, size) for list.
  const valueAddr = op === 'list' ? n.args[1] : n.args[2];
  const size = Number(op === 'list' ? n.args[2] : n.args[3]);
  let value: Buffer | undefined;
  if (op === 'set') {
    if (size > XATTR_SIZE_MAX) return fail(E2BIG);
    value = native.readMemory(n.pid, valueAddr, size);
  }
  // A relative path is made absolute from the caller's cwd here: resolved from the cwd as root,
  // ".." could not climb above it.
  const where = target === 'fd' ? `/proc/self/fd/${intArg(n.args[0])}` : resolvePath(n.pid, stringArg(n.pid, n.args[0]));
  if (!stillValid()) return fail(EPERM);
  let fd = -1;
  try {
    fd = native.openInRoot(n.pid, where, target === 'lpath');
    switch (op) {
      case 'set':
        native.xattrSet(fd, name!, value!, intArg(n.args[4]));
        return ok();
      case 'remove':
        native.xattrRemove(fd, name!);
        return ok();
      case 'get': {
        const got = native.xattrGet(fd, name!, Math.min(size, XATTR_SIZE_MAX));
        if (typeof got === 'number') return ok(got);
        native.writeMemory(n.pid, valueAddr, got);
        return ok(got.length);
      }
      case 'list': {
        const names = visibleNames(native.xattrList(fd));
        if (size === 0) return ok(names.length);
        if (names.length > size) return fail(ERANGE);
        native.writeMemory(n.pid, valueAddr, names);
        return ok(names.length);
      }
      default:
        return CONTINUE;
    }
  } catch (e) {
    return fail(errnoOf(e));
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
}
