// Outside system-container mode the spec's seccomp profile decides which syscalls run, but mount
// and umount (and mount_setattr, which could clear read-only flags) stay trapped by sysbox-fs
// wherever that profile lets them through, as in the original for mount and umount:
// a container given CAP_SYS_ADMIN and a profile that allows mount could otherwise mount a fresh
// procfs or unmount the virtual files and see the host's. Where the profile denies them, nothing
// changes (the kernel never gets that far). In system-container mode the seccomp transform does this.
import type { Seccomp, SeccompRule } from '../oci.js';
import type { Transform } from '../transform.js';
import { TRAPPED_SYSCALLS } from './seccomp.js';

const LETS_THROUGH = new Set(['SCMP_ACT_ALLOW', 'SCMP_ACT_LOG']);
const NOTIFY = 'SCMP_ACT_NOTIFY';

/** The profile with every path that lets a trapped syscall through sent to the listener instead. */
export function trapMounts(profile: Seccomp | undefined, listener: string): Seccomp {
  const out: Seccomp = profile ?? { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [] };
  const trapped = new Set<string>(TRAPPED_SYSCALLS);
  const ruled = new Set<string>();
  const rules: SeccompRule[] = [];
  for (const rule of out.syscalls ?? []) {
    const ours = rule.names.filter((n) => trapped.has(n));
    ours.forEach((n) => ruled.add(n));
    if (ours.length === 0 || !LETS_THROUGH.has(rule.action)) {
      rules.push(rule);
      continue;
    }
    const rest = rule.names.filter((n) => !trapped.has(n));
    if (rest.length > 0) rules.push({ ...rule, names: rest });
    // Same conditions: a call the rule would not have allowed still meets the profile's default.
    rules.push({ ...rule, names: ours, action: NOTIFY });
  }
  // Names no rule mentions take the default action; a name with a denying rule is left alone (an
  // unconditional trap next to a conditional denial would not load).
  const byDefault = LETS_THROUGH.has(out.defaultAction) ? TRAPPED_SYSCALLS.filter((n) => !ruled.has(n)) : [];
  if (byDefault.length > 0) rules.push({ names: [...byDefault], action: NOTIFY });
  out.syscalls = rules;
  if (rules.some((r) => r.action === NOTIFY)) out.listenerPath = listener;
  return out;
}

export const mountTraps: Transform = {
  name: 'mount-traps',
  apply(spec, ctx) {
    if (!ctx.seccompListener) return;
    const trapped = trapMounts(spec.linux!.seccomp, ctx.seccompListener);
    if (trapped.listenerPath) spec.linux!.seccomp = trapped;
  },
};
