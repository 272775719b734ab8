// `sysbox-runc list`: passed through to runc. Lists what runc knows under --root.
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('list', ctx, argv);
}
