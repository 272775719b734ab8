// `sysbox-runc features`: passed through to runc. runc's feature report (the executor's capabilities).
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('features', ctx, argv);
}
