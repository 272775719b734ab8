// `sysbox-runc pause`: see lifecycle/freeze.ts.
import type { GlobalContext } from '../context.js';
import { freezeOrThaw } from '../lifecycle/freeze.js';

export function command(ctx: GlobalContext, argv: readonly string[]): Promise<number> {
  return freezeOrThaw('pause', ctx, argv);
}
