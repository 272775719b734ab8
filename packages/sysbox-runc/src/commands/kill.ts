// `sysbox-runc kill`: passed through to runc. Signals go straight to the container's init through runc.
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('kill', ctx, argv);
}
