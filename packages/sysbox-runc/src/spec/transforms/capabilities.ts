// By default root inside a system container holds every capability, as on a real host, and other
// users none but a full bounding set (setuid programs work); they are capabilities of the
// container's user namespace only, so they confer nothing on the host. With honor-caps (or outside
// system-container mode) the process keeps exactly what the container manager gave it, as with runc.
import type { ContainerConfig } from '@sysbox/common/container-config';
import type { Capabilities } from '../oci.js';
import type { Transform } from '../transform.js';

export const ALL_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL',
  'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT',
  'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG',
  'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
] as const;

/** True when the spec's capabilities are used as given (create, and exec with the same config). */
export function honorsCaps(config: Pick<ContainerConfig, 'honorCaps' | 'syscontMode'>): boolean {
  return config.honorCaps || !config.syscontMode;
}

/**
 * The system-container sets for a process of this uid, as the original gives them: root all five
 * sets full (ambient too, so a root process keeps them across exec of any binary), others empty
 * sets under a full bounding set. Shared with exec, whose process spec arrives separately.
 */
export function systemCapabilities(uid: number): Capabilities {
  const all = [...ALL_CAPABILITIES];
  if (uid === 0) return { bounding: all, effective: [...all], permitted: [...all], inheritable: [...all], ambient: [...all] };
  return { bounding: all, effective: [], permitted: [], inheritable: [], ambient: [] };
}

export const capabilities: Transform = {
  name: 'capabilities',
  apply(spec, ctx) {
    if (honorsCaps(ctx.config)) return;
    const p = spec.process!;
    p.capabilities = systemCapabilities(p.user.uid);
  },
};
