// After runc has deleted a container: tell sysbox-mgr to release its mounts, dirs and id range.
import fs from 'node:fs';
import path from 'node:path';
import { MOUNT_ROOT } from '@sysbox/common/paths';
import { log } from '../log.js';

/** Cheap check first: containers sysbox-mgr never prepared (or already released) have no run dir. */
export function isRegistered(id: string): boolean {
  return fs.existsSync(path.join(MOUNT_ROOT, id));
}

export async function releaseContainer(mgrSocket: string, id: string): Promise<void> {
  const { connectMgr, explainMgrError, isNotFound } = await import('./mgr.js');
  const mgr = connectMgr(mgrSocket);
  try {
    await mgr.unregister({ id });
    log('debug', `released ${id} in sysbox-mgr`);
  } catch (err) {
    if (!isNotFound(err)) throw explainMgrError(err, mgrSocket);
  } finally {
    mgr.close();
  }
}
