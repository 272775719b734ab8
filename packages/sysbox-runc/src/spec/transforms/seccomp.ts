// System software (Docker, systemd, mount, unshare, keyrings) needs syscalls that Docker's default
// profile blocks for unprivileged containers. They are allowed unconditionally; the user namespace
// limits what they can reach. Everything else in the profile (and its default action) is kept.
import type { SeccompRule } from '../oci.js';
import type { Transform } from '../transform.js';

export const SYSTEM_SYSCALLS = [
  'mount', 'umount', 'umount2', 'unshare', 'setns', 'pivot_root', 'clone', 'clone3', 'chroot',
  'keyctl', 'add_key', 'request_key', 'sethostname', 'setdomainname', 'vhangup',
  'open_tree', 'move_mount', 'mount_setattr', 'fsopen', 'fsconfig', 'fsmount', 'fspick',
] as const;

export const seccomp: Transform = {
  name: 'seccomp',
  apply(spec) {
    const profile = spec.linux!.seccomp;
    if (!profile) return;
    const ours = new Set<string>(SYSTEM_SYSCALLS);
    // Conditional or denying rules for these syscalls (e.g. Docker's clone flag filter, clone3's
    // ENOSYS) would shadow a plain allow: remove the names from them.
    const rules: SeccompRule[] = [];
    for (const rule of profile.syscalls ?? []) {
      const names = rule.names.filter((n) => !ours.has(n));
      if (names.length > 0) rules.push({ ...rule, names });
    }
    rules.push({ names: [...SYSTEM_SYSCALLS], action: 'SCMP_ACT_ALLOW' });
    profile.syscalls = rules;
  },
};
