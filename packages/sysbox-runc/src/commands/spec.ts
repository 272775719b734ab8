// `sysbox-runc spec`: runc's default spec. Nothing system-container specific is written into it:
// every bundle, this one included, is converted when it is created.
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('spec', ctx, argv);
}
