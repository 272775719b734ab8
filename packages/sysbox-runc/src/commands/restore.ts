// `sysbox-runc restore`: not supported. CRIU cannot yet restore the ID-shifted mounts and
// per-container state of a system container, so we say so rather than produce a broken image.
import type { GlobalContext } from '../context.js';
import { UsageError } from '../cli/flags.js';

export function command(_ctx: GlobalContext, _argv: readonly string[]): number {
  throw new UsageError('restore is not supported by sysbox-runc (system containers cannot be checkpointed yet)');
}
