// Helpers shared by the command files: argument checks worded like runc's, and plain passthrough.
import { COMMAND_FLAGS, flagTokens, parseFlags, UsageError, type ParsedArgs } from '../cli/flags.js';
import type { GlobalContext } from '../context.js';
import { runcSync } from '../executor.js';

export function parseCommand(name: string, argv: readonly string[]): ParsedArgs {
  return parseFlags(argv, COMMAND_FLAGS[name] ?? []);
}

/** The single container id runc expects, with runc's wording when it is missing or extra. */
export function containerId(name: string, parsed: ParsedArgs, maxExtra = 0): string {
  const n = parsed.rest.length;
  if (n < 1 || (maxExtra >= 0 && n > 1 + maxExtra)) {
    throw new UsageError(maxExtra === 0 ? `"${name}" requires exactly 1 argument(s)` : `"${name}" requires a container id`);
  }
  return parsed.rest[0]!;
}

/** Runs the same command on runc, unchanged. */
export function passthrough(name: string, ctx: GlobalContext, argv: readonly string[]): number {
  const parsed = parseCommand(name, argv);
  return runcSync([...ctx.runcGlobals, name, ...flagTokens(parsed), ...parsed.rest]);
}

/**
 * create and run: the original could run a container without sysbox-fs or sysbox-mgr for its own
 * tests; here id ranges, the shifted rootfs and the virtual /proc and /sys come only from them.
 */
export function refuseWithoutDaemons(ctx: GlobalContext): void {
  const provides: Record<string, string> = {
    'no-sysbox-mgr': 'sysbox-mgr (its id range and ID-shifted rootfs)',
    'no-sysbox-fs': 'sysbox-fs (its virtual /proc and /sys, mount trapping)',
  };
  const [flag] = ctx.withoutDaemons;
  if (flag !== undefined) throw new UsageError(`--${flag} is not supported: a system container needs ${provides[flag] ?? flag}`);
}

export type Command = (ctx: GlobalContext, argv: readonly string[]) => Promise<number> | number;
