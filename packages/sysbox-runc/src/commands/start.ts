// `sysbox-runc start`: passed through to runc. Nothing to change: the container was made a system container at create.
// (The launcher starts a plain created container itself, without runc or Node: launcher/sysbox-runc.sh start_fast.)
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('start', ctx, argv);
}
