// `sysbox-runc events`: passed through to runc. Stats and OOM events, from runc.
import type { GlobalContext } from '../context.js';
import { passthrough } from './common.js';

export function command(ctx: GlobalContext, argv: readonly string[]): number {
  return passthrough('events', ctx, argv);
}
