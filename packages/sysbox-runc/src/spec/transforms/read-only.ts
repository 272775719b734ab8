// A read-only container (`docker run --read-only`) keeps its rootfs read-only, but system software
// needs somewhere to write its runtime state: /run and /tmp become tmpfs unless the spec mounts
// something there itself (as the original Sysbox does). What Sysbox adds on top of the spec
// (writable /sys and cgroupfs, the special dirs) follows the rootfs and stays read-only, unless
// sysbox-mgr runs with --relaxed-read-only: then those stay writable, so an inner Docker can run.
import type { ContainerConfig } from '@sysbox/common/container-config';
import type { Mount, Spec } from '../oci.js';
import type { Transform } from '../transform.js';

const TMPFS_OPTIONS = ['rw', 'rprivate', 'noexec', 'nosuid', 'nodev', 'size=64m'];

/** The original gives /tmp mode 755; 1777 keeps it usable by every user, as /tmp is meant to be. */
export const READ_ONLY_TMPFS: readonly Mount[] = [
  { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: [...TMPFS_OPTIONS, 'mode=755'] },
  { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: [...TMPFS_OPTIONS, 'mode=1777'] },
];

/** True when what Sysbox adds to a read-only container must be read-only too. */
export function keepAddedReadOnly(spec: Spec, config: Pick<ContainerConfig, 'relaxedReadOnly'>): boolean {
  return spec.root?.readonly === true && !config.relaxedReadOnly;
}

export const readOnlyRootfs: Transform = {
  name: 'read-only',
  apply(spec) {
    if (spec.root?.readonly !== true) return;
    const mounts = (spec.mounts ??= []);
    const taken = new Set(mounts.map((m) => m.destination.replace(/\/+$/, '')));
    for (const m of READ_ONLY_TMPFS) {
      if (!taken.has(m.destination)) mounts.push({ ...m, options: [...m.options!] });
    }
  },
};
