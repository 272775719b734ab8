// The ordered list of transforms applied to every bundle on create/run. Read top to bottom, this
// is what makes a system container out of an ordinary OCI bundle. Those wrapped in system() are
// skipped outside system-container mode (SYSBOX_SYSCONT_MODE=FALSE, sysbox-mgr --syscont-mode=false):
// such a container is set up strictly per its spec but for the user and cgroup namespaces, ID
// shifting and sysbox-fs, as with the original; those wrapped in specMode() apply only there.
import type { Spec } from '../oci.js';
import type { Transform, TransformContext } from '../transform.js';
import { apparmor } from './apparmor.js';
import { capabilities } from './capabilities.js';
import { cgroupMount } from './cgroup-mount.js';
import { cgroupNamespace } from './cgroup-namespace.js';
import { idmappedBinds } from './idmapped-binds.js';
import { mountTraps } from './mount-traps.js';
import { oomScoreAdj } from './oom-score-adj.js';
import { procPaths } from './proc-paths.js';
import { readOnlyRootfs } from './read-only.js';
import { seccomp } from './seccomp.js';
import { shiftedRootfs } from './shifted-rootfs.js';
import { specialDirs } from './special-dirs.js';
import { sysboxEnv } from './sysbox-env.js';
import { sysctl } from './sysctl.js';
import { userNamespace } from './user-namespace.js';
import { writableSys } from './writable-sys.js';

const system = (t: Transform): Transform => ({ ...t, mode: 'system' });
const specMode = (t: Transform): Transform => ({ ...t, mode: 'spec' });

export const TRANSFORMS: readonly Transform[] = [
  sysboxEnv, // SYSBOX_* knobs configure the runtime, not the processes inside
  userNamespace, // own user namespace on an exclusive id range
  cgroupNamespace, // host cgroup paths hidden
  shiftedRootfs, // rootfs: ID-shifted view, reachable by the container's root
  idmappedBinds, // bind mounts: ID-mapped sources
  system(specialDirs), // /var/lib/docker & co. on host dirs the container's root owns
  system(readOnlyRootfs), // --read-only: /run and /tmp writable tmpfs
  system(cgroupMount), // a cgroupfs even where the spec has none (containerd's default spec)
  system(writableSys), // sysfs and cgroupfs writable where the container owns them
  system(capabilities), // full capability set for root, inside the user namespace (unless honor-caps)
  system(seccomp), // syscalls system software needs, mount trapping
  specMode(mountTraps), // the spec's own seccomp profile, but mount trapping where it allows mount
  system(procPaths), // /proc/sys writable where the namespace owns it
  sysctl, // sysctls valid inside a user namespace
  system(apparmor), // no docker-default profile
  oomScoreAdj, // OOM score within the user namespace's range (-999..1000); applied by lifecycle/oom-score.ts
];

export function applyTransforms(spec: Spec, ctx: TransformContext): Spec {
  for (const t of TRANSFORMS) {
    if (t.mode !== undefined && t.mode !== (ctx.config.syscontMode ? 'system' : 'spec')) continue;
    try {
      t.apply(spec, ctx);
    } catch (err) {
      throw new Error(`spec transform ${t.name}: ${(err as Error).message}`);
    }
  }
  return spec;
}
