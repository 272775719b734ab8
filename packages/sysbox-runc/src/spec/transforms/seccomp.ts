// System software (Docker, systemd, mount, unshare, keyrings) needs syscalls that Docker's default
// profile blocks for unprivileged containers. They are allowed unconditionally; the user namespace
// limits what they can reach. mount and umount2 go to sysbox-fs instead (seccomp user
// notification): it mounts new procfs/sysfs with the virtual files on top and refuses to unmount
// or expose them; every other mount it lets the kernel decide. So does mount_setattr, which could
// otherwise clear the read-only flag of what remounting may not make writable. Everything else in the profile (and
// its default action) is kept; a spec without a profile gets one that allows all but the trapped.
// Two knobs trap more, each only when on (every trapped call costs a round trip to sysbox-fs):
// SYSBOX_IGNORE_SYSFS_CHOWN the chown family (chown of /sys then succeeds without effect), and
// SYSBOX_ALLOW_TRUSTED_XATTR the *xattr family (trusted.overlay.opaque then done at host level).
import type { Seccomp, SeccompRule } from '../oci.js';
import type { Transform } from '../transform.js';

export const TRAPPED_SYSCALLS = ['mount', 'umount2', 'umount', 'mount_setattr'] as const;

export const CHOWN_SYSCALLS = ['chown', 'fchown', 'fchownat', 'lchown'] as const;

export const XATTR_SYSCALLS = [
  'setxattr', 'lsetxattr', 'fsetxattr', 'getxattr', 'lgetxattr', 'fgetxattr',
  'removexattr', 'lremovexattr', 'fremovexattr', 'listxattr', 'llistxattr', 'flistxattr',
] as const;

export const SYSTEM_SYSCALLS = [
  'unshare', 'setns', 'pivot_root', 'clone', 'clone3', 'chroot',
  'keyctl', 'add_key', 'request_key', 'sethostname', 'setdomainname', 'vhangup',
  'open_tree', 'move_mount', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
  // Docker allows these only with CAP_SYS_PTRACE, which its profile does not know root has here:
  // debuggers, and daemons that pass fds between processes (sysbox-fs itself, nested).
  'ptrace', 'kcmp', 'pidfd_getfd', 'process_vm_readv', 'process_vm_writev', 'process_madvise',
] as const;

export const seccomp: Transform = {
  name: 'seccomp',
  apply(spec, ctx) {
    const linux = spec.linux!;
    const profile: Seccomp = linux.seccomp ?? { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] };
    const trapped: string[] = [...TRAPPED_SYSCALLS];
    if (ctx.seccompListener && ctx.config.ignoreSysfsChown) trapped.push(...CHOWN_SYSCALLS);
    if (ctx.seccompListener && ctx.config.allowTrustedXattr) trapped.push(...XATTR_SYSCALLS);
    const ours = new Set<string>([...SYSTEM_SYSCALLS, ...trapped]);
    // Conditional or denying rules for these syscalls (e.g. Docker's clone flag filter, clone3's
    // ENOSYS) would shadow ours: remove the names from them.
    const rules: SeccompRule[] = [];
    for (const rule of profile.syscalls ?? []) {
      const names = rule.names.filter((n) => !ours.has(n));
      if (names.length > 0) rules.push({ ...rule, names });
    }
    rules.push({ names: [...SYSTEM_SYSCALLS], action: 'SCMP_ACT_ALLOW' });
    if (ctx.seccompListener) {
      rules.push({ names: trapped, action: 'SCMP_ACT_NOTIFY' });
      profile.listenerPath = ctx.seccompListener;
    } else {
      rules.push({ names: [...TRAPPED_SYSCALLS], action: 'SCMP_ACT_ALLOW' });
    }
    profile.syscalls = rules;
    linux.seccomp = profile;
  },
};
