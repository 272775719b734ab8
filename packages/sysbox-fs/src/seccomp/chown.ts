// SYSBOX_IGNORE_SYSFS_CHOWN: /sys belongs to the host's root, so inside it shows as nobody and a
// chown of it fails EPERM, which some package managers (RPM) treat as fatal. With the knob the
// chown family is trapped and a chown of a sysfs mounted at /sys (as the caller names it: through
// its root, cwd and fds) succeeds without effect; every other chown runs as the kernel decides.
// As in the original, /sys reached through a symlink is not recognised (resolving every chown's
// path would slow them all down).
import fs from 'node:fs';
import { findMount, parseMountInfo, type MountInfo } from '@sysbox/common/mountinfo';
import type { SeccompNotif } from '@sysbox/native';
import type { TrappedCall } from './syscalls.js';
import { atPath, fdPath, intArg, resolvePath, stringArg } from './tracee.js';

/** The pure decision: ignore a chown of path when a sysfs is what the caller has at /sys. */
export function ignoresChown(path: string | undefined, mounts: () => MountInfo[]): boolean {
  return path === '/sys' && findMount(mounts(), '/sys')?.fsType === 'sysfs';
}

/** The path a trapped chown-family call names, as the caller sees it. */
export function chownTarget(call: TrappedCall, n: SeccompNotif): string | undefined {
  switch (call) {
    case 'chown':
    case 'lchown':
      return resolvePath(n.pid, stringArg(n.pid, n.args[0]));
    case 'fchown':
      return fdPath(n.pid, intArg(n.args[0]));
    case 'fchownat':
      return atPath(n.pid, intArg(n.args[0]), stringArg(n.pid, n.args[1]), intArg(n.args[4]));
    default:
      return undefined;
  }
}

/** 'ignore': answer success without running it; 'continue': let the kernel run it. */
export function handleChown(call: TrappedCall, n: SeccompNotif): 'ignore' | 'continue' {
  const target = chownTarget(call, n);
  return ignoresChown(target, () => parseMountInfo(fs.readFileSync(`/proc/${n.pid}/mountinfo`, 'utf8'))) ? 'ignore' : 'continue';
}
