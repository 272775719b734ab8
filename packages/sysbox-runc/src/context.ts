// What every command receives: the parsed global flags and the runc arguments they imply.
import { MGR_SOCKET } from '@sysbox/common/paths';
import { flagSet, flagTokens, flagValue, type ParsedArgs } from './cli/flags.js';

export interface GlobalContext {
  /** Global flags to hand runc, verbatim (Sysbox's own removed). */
  runcGlobals: string[];
  mgrSocket: string;
  debug: boolean;
}

export function globalContext(parsed: ParsedArgs): GlobalContext {
  return {
    runcGlobals: flagTokens(parsed, {}, ['sysbox-mgr-socket']),
    mgrSocket: flagValue(parsed, 'sysbox-mgr-socket') ?? process.env.SYSBOX_MGR_SOCKET ?? MGR_SOCKET,
    debug: flagSet(parsed, 'debug'),
  };
}

/** A command's exit status, or an error to report runc-style. */
export type CommandResult = Promise<number> | number;
