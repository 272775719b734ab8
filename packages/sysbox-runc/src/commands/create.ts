// `sysbox-runc create`: converts the bundle into a system container, then `runc create` on the
// rewritten bundle. If runc fails, everything sysbox-mgr prepared is released; if it succeeds,
// sysbox-mgr follows the init process and releases the container when it exits.
import path from 'node:path';
import { flagTokens, flagValue } from '../cli/flags.js';
import type { GlobalContext } from '../context.js';
import { runcPath, runcSync } from '../executor.js';
import { log } from '../log.js';
import { recordDeleteFacts } from '../lifecycle/delete-facts.js';
import { recordExecutor } from '../lifecycle/executor-record.js';
import { initPid } from '../lifecycle/init-pid.js';
import { prepareSystemContainer, type PrestartedOptions } from '../lifecycle/prepare.js';
import { containerId, parseCommand, refuseWithoutDaemons } from './common.js';

/** A create up to runc: the runc arguments, and what follows runc's exit (its status in, ours out). */
export interface PendingCreate {
  runcArgs: string[];
  preserveFds: number;
  finish(runcStatus: number): Promise<number>;
}

/** Everything before `runc create` (pre: a pre-started create's connections and launcher). */
export async function beforeRunc(ctx: GlobalContext, argv: readonly string[], pre?: PrestartedOptions): Promise<PendingCreate> {
  const parsed = parseCommand('create', argv);
  const id = containerId('create', parsed);
  const bundle = path.resolve(flagValue(parsed, 'bundle') ?? '.');
  refuseWithoutDaemons(ctx);
  const prepared = await prepareSystemContainer(ctx, id, bundle, pre);
  log('debug', `runc create ${id}`);
  return {
    runcArgs: [...ctx.runcGlobals, 'create', ...flagTokens(parsed, { bundle: prepared.bundle }), id],
    preserveFds: Number(flagValue(parsed, 'preserve-fds') ?? 0),
    finish: async (status) => {
      try {
        log('debug', `runc create ${id}: status ${status}`);
        if (status !== 0) await prepared.release();
        else {
          await prepared.created(initPid(ctx, id, flagValue(parsed, 'pid-file')));
          // For the launcher's kill, and its delete once the container has stopped (an executor start saved).
          recordDeleteFacts(runcPath, ctx.runcRoot, id);
          recordExecutor(runcPath, ctx.runcRoot, id);
        }
        return status;
      } catch (err) {
        await prepared.release().catch(() => {});
        throw err;
      } finally {
        prepared.close();
      }
    },
  };
}

export async function command(ctx: GlobalContext, argv: readonly string[]): Promise<number> {
  const pending = await beforeRunc(ctx, argv);
  let status: number;
  try {
    status = runcSync(pending.runcArgs, pending.preserveFds);
  } catch (err) {
    // finish(1) releases; the spawn error is what to report.
    await pending.finish(1).catch(() => {});
    throw err;
  }
  return pending.finish(status);
}
