// After runc has deleted a container: tell sysbox-fs to forget it and sysbox-mgr to release its
// mounts, dirs and id range. Both also do so by themselves when the init exits; this covers a
// container deleted without ever running.
import fs from 'node:fs';
import path from 'node:path';
import { MOUNT_ROOT } from '@sysbox/common/paths';
import type { GlobalContext } from '../context.js';
import { log } from '../log.js';

/** Cheap check first: containers sysbox-mgr never prepared (or already released) have no run dir. */
export function isRegistered(id: string): boolean {
  return fs.existsSync(path.join(MOUNT_ROOT, id));
}

export async function releaseContainer(ctx: Pick<GlobalContext, 'mgrSocket' | 'fsSocket'>, id: string): Promise<void> {
  const { againIfLost, ARCHIVE_WAIT_MS, connectMgr, explainMgrError, isNotFound } = await import('./mgr.js');
  const { connectFs, explainFsError } = await import('./fs.js');
  // Unregister is answered once the stopped container's inner data is archived into its rootfs.
  const mgr = connectMgr(ctx.mgrSocket, ARCHIVE_WAIT_MS);
  const fsd = connectFs(ctx.fsSocket);
  try {
    await Promise.all([
      againIfLost(() => fsd.unregister({ id })).catch((err: unknown) => {
        if (!isNotFound(err)) throw explainFsError(err, ctx.fsSocket);
      }),
      againIfLost(() => mgr.unregister({ id })).catch((err: unknown) => {
        if (!isNotFound(err)) throw explainMgrError(err, ctx.mgrSocket);
      }),
    ]);
    log('debug', `released ${id} in sysbox-fs and sysbox-mgr`);
  } finally {
    mgr.close();
    fsd.close();
  }
}
