// Host directories that back paths like /var/lib/docker inside a system container. Software that
// stacks overlays there (an inner Docker's overlay2) cannot do so on the container's own overlay
// rootfs; on a plain host dir owned by the container's root it can. One dir per container and
// path, under <data-root>, removed when the container is released.
import fs from 'node:fs';
import path from 'node:path';
import { SPECIAL_DIRS } from '@sysbox/common/paths';
import * as native from '@sysbox/native';

export interface SpecialDir { hostDir: string; mountPoint: string }

/**
 * Creates the host dir owned by uid:gid and binds it into the container's run dir (which, unlike
 * the data root, the container's root can traverse). Returns both paths.
 */
export function prepareSpecialDir(dataRoot: string, runDir: string, id: string, dest: string, uid: number, gid: number): SpecialDir {
  if (!SPECIAL_DIRS.includes(dest)) throw new Error(`${dest} is not a special dir (known: ${SPECIAL_DIRS.join(', ')})`);
  const kind = path.basename(dest);
  const parent = path.join(dataRoot, kind);
  fs.mkdirSync(parent, { recursive: true, mode: 0o700 });
  const hostDir = path.join(parent, id);
  fs.mkdirSync(hostDir, { recursive: true, mode: 0o710 });
  fs.chownSync(hostDir, uid, gid);
  const mountPoint = path.join(runDir, 'special', kind);
  fs.mkdirSync(mountPoint, { recursive: true });
  native.mount(hostDir, mountPoint, '', native.constants.MS_BIND);
  return { hostDir, mountPoint };
}
