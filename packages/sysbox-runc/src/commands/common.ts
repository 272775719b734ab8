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

export type Command = (ctx: GlobalContext, argv: readonly string[]) => Promise<number> | number;
