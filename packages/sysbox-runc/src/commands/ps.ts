// `sysbox-runc ps`: passed through to runc. Processes of the container, from runc.
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('ps', ctx, argv);
}
