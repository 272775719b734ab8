// `sysbox-runc create`: converts the bundle into a system container, then `runc create` on the
// rewritten bundle. If runc fails, everything sysbox-mgr prepared is released; if it succeeds,
// sysbox-mgr follows the init process and releases the container when it exits.
import path from 'node:path';
import { flagTokens, flagValue } from '../cli/flags.js';
import type { GlobalContext } from '../context.js';
import { runcSync } from '../executor.js';
import { log } from '../log.js';
import { initPid } from '../lifecycle/init-pid.js';
import { prepareSystemContainer } from '../lifecycle/prepare.js';
import { containerId, parseCommand, refuseWithoutDaemons } from './common.js';

export async function command(ctx: GlobalContext, argv: readonly string[]): Promise<number> {
  const parsed = parseCommand('create', argv);
  const id = containerId('create', parsed);
  const bundle = path.resolve(flagValue(parsed, 'bundle') ?? '.');
  refuseWithoutDaemons(ctx);
  const prepared = await prepareSystemContainer(ctx, id, bundle);
  log('debug', `runc create ${id}`);
  try {
    const status = runcSync(
      [...ctx.runcGlobals, 'create', ...flagTokens(parsed, { bundle: prepared.bundle }), id],
      Number(flagValue(parsed, 'preserve-fds') ?? 0),
    );
    log('debug', `runc create ${id}: status ${status}`);
    if (status !== 0) await prepared.release();
    else await prepared.created(initPid(ctx, id, flagValue(parsed, 'pid-file')));
    return status;
  } catch (err) {
    await prepared.release().catch(() => {});
    throw err;
  } finally {
    prepared.close();
  }
}
