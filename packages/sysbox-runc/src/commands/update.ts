// `sysbox-runc update`: passed through to runc. Resource updates apply to the container's cgroups through runc.
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('update', ctx, argv);
}
