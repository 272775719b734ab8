// pause/resume: runc freezes or thaws the cgroup; sysbox-mgr is told so its record stays current.
import type { GlobalContext } from '../context.js';
import { log } from '../log.js';
import { containerId, parseCommand, passthrough } from '../commands/common.js';
import { isRegistered } from './release.js';

export async function freezeOrThaw(op: 'pause' | 'resume', ctx: GlobalContext, argv: readonly string[]): Promise<number> {
  const id = containerId(op, parseCommand(op, argv));
  const status = passthrough(op, ctx, argv);
  if (status !== 0 || !isRegistered(id)) return status;
  const { ARCHIVE_WAIT_MS, connectMgr } = await import('./mgr.js');
  // A pause is answered once the inner data is archived (docker commit reads it right after).
  const mgr = connectMgr(ctx.mgrSocket, op === 'pause' ? ARCHIVE_WAIT_MS : undefined);
  try {
    await mgr[op]({ id });
  } catch (err) {
    log('warning', `could not tell sysbox-mgr about ${op} of ${id}: ${(err as Error).message}`);
  } finally {
    mgr.close();
  }
  return status;
}
