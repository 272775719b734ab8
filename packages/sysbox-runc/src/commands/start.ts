// `sysbox-runc start`: passed through to runc. Nothing to change: the container was made a system container at create.
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('start', ctx, argv);
}
