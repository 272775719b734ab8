// `sysbox-runc run`: create + start in one, as runc does. In the foreground we wait for the
// container to exit (runc deletes it) and then release it in sysbox-mgr; with --detach the
// container lives on until `sysbox-runc delete`.
import path from 'node:path';
import { flagSet, flagTokens, flagValue } from '../cli/flags.js';
import type { GlobalContext } from '../context.js';
import { runcForeground } from '../executor.js';
import { log } from '../log.js';
import { initPid } from '../lifecycle/init-pid.js';
import { prepareSystemContainer } from '../lifecycle/prepare.js';
import { containerId, parseCommand, refuseWithoutDaemons } from './common.js';

export async function command(ctx: GlobalContext, argv: readonly string[]): Promise<number> {
  const parsed = parseCommand('run', argv);
  const id = containerId('run', parsed);
  const bundle = path.resolve(flagValue(parsed, 'bundle') ?? '.');
  refuseWithoutDaemons(ctx);
  const detach = flagSet(parsed, 'detach');
  const prepared = await prepareSystemContainer(ctx, id, bundle);
  let status = 1;
  try {
    status = await runcForeground(
      [...ctx.runcGlobals, 'run', ...flagTokens(parsed, { bundle: prepared.bundle }), id],
      Number(flagValue(parsed, 'preserve-fds') ?? 0),
    );
    if (detach && status === 0) await prepared.created(initPid(ctx, id, flagValue(parsed, 'pid-file')));
  } finally {
    if (!detach || status !== 0) {
      await prepared.release().catch((err: Error) => log('warning', `releasing ${id}: ${err.message}`));
    }
    prepared.close();
  }
  return status;
}
