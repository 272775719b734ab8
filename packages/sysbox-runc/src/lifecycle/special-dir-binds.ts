// The special dirs (/var/lib/docker ...) reach runc as binds sysbox-mgr made under the run dir, in
// the host's mount namespace. Podman creates a container it gave a user namespace (--uidmap,
// --userns=auto) from a mount namespace of its own, copied from the host's just before: conmon,
// sysbox-runc and runc run there. Where the host's mounts propagate (a shared `/`, as systemd sets
// up) sysbox-mgr's binds appear in that copy too; where `/` is private they do not, runc binds the
// empty mount-point dirs, and an inner dockerd fails (`chmod /var/lib/docker: operation not
// permitted`). So each bind this namespace lacks is made again here, from the host dir sysbox-mgr
// named; it goes away with the namespace.
import fs from 'node:fs';
import { log } from '../log.js';

/** True when `mountPoint` shows `hostDir` (the bind is visible here): the same inode on the same device. */
function showsHostDir(mountPoint: string, hostDir: string): boolean {
  const a = fs.statSync(mountPoint);
  const b = fs.statSync(hostDir);
  return a.ino === b.ino && a.dev === b.dev;
}

/** Binds, in this mount namespace, each of `hostDirs` its `mountPoints` entry does not show yet. */
export function bindSpecialDirsHere(mountPoints: string[], hostDirs: string[]): void {
  mountPoints.forEach((mountPoint, i) => {
    const hostDir = hostDirs[i];
    // A sysbox-mgr that names no host dirs predates this: nothing to compare with.
    if (!hostDir || showsHostDir(mountPoint, hostDir)) return;
    // Loaded only here: Docker runs sysbox-runc in the host's namespace, where the binds are.
    const native = require('@sysbox/native') as typeof import('@sysbox/native');
    try {
      native.mount(hostDir, mountPoint, '', native.constants.MS_BIND);
    } catch (err) {
      throw new Error(`cannot bind special dir ${hostDir} at ${mountPoint} in runc's mount namespace: ${(err as Error).message}`);
    }
    log('debug', `bound ${hostDir} at ${mountPoint} in this mount namespace (sysbox-mgr's bind does not propagate here)`);
  });
}
