// `sysbox-runc state`: passed through to runc. runc's state is the container's state.
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('state', ctx, argv);
}
