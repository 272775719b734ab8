// A spec transform: one named, documented change that turns an OCI bundle into a system container.
import type { ContainerConfig } from '@sysbox/common/container-config';
import type { Spec } from './oci.js';

export interface TransformContext {
  /** Host ids of the container's root and the range size. */
  uid: number;
  gid: number;
  size: number;
  /** True when the spec brought its own mappings (Docker userns-remap): nothing to shift. */
  preMapped: boolean;
  /**
   * The user namespace to join instead of creating one (`/proc/PID/ns/user`): that of the system
   * container whose network namespace the spec joins (a pod's containers), whose ids are shared.
   */
  usernsPath?: string;
  /** The ID-shifted rootfs prepared by sysbox-mgr. */
  rootfs: string;
  /** One per bind mount of the spec, in order: the ID-mapped source to bind from instead. */
  bindSources: string[];
  /** Paths backed by sysbox-mgr's per-container host dirs, and those dirs (same order). */
  specialDirs: string[];
  specialDirSources: string[];
  /** sysbox-fs's OCI seccomp listener socket (mount trapping). */
  seccompListener: string;
  /** sysbox-mgr's flags with the container's SYSBOX_* overrides (@sysbox/common/container-config). */
  config: ContainerConfig;
}

export interface Transform {
  name: string;
  /**
   * Applied only in that mode of the container's config (absent: in both). 'system': part of what
   * makes a *system* container, skipped with syscontMode off (SYSBOX_SYSCONT_MODE=FALSE), which keeps
   * the user and cgroup namespaces and ID shifting; 'spec': what such a container still needs.
   */
  mode?: 'system' | 'spec';
  apply(spec: Spec, ctx: TransformContext): void;
}
