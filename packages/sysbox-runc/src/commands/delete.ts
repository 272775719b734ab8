// `sysbox-runc delete`: runc deletes the container, then sysbox-mgr releases its mounts, dirs and
// id range. A registration whose container runc no longer knows (a create that died half-way) is
// released too, so `docker rm` always cleans up. The launcher runs runc's delete itself and comes
// here only when sysbox-mgr did not release the container on its own in time; it then says how
// runc's delete went (SYSBOX_RUNC_DELETE_STATUS), and runc is not asked again.
import { flagTokens } from '../cli/flags.js';
import type { GlobalContext } from '../context.js';
import { runcCapture, runcSync } from '../executor.js';
import { isRegistered, releaseContainer } from '../lifecycle/release.js';
import { containerId, parseCommand } from './common.js';

export async function command(ctx: GlobalContext, argv: readonly string[]): Promise<number> {
  const parsed = parseCommand('delete', argv);
  const id = containerId('delete', parsed);
  const status = launcherDeleteStatus() ?? runcSync([...ctx.runcGlobals, 'delete', ...flagTokens(parsed), id]);
  if (!isRegistered(id)) return status;
  if (status !== 0 && runcCapture([...ctx.runcGlobals, 'state', id]).status === 0) return status;
  await releaseContainer(ctx, id);
  return status;
}

function launcherDeleteStatus(): number | undefined {
  const given = process.env.SYSBOX_RUNC_DELETE_STATUS;
  delete process.env.SYSBOX_RUNC_DELETE_STATUS;
  return given !== undefined && /^\d+$/.test(given) ? Number(given) : undefined;
}
