// What every command receives: the parsed global flags and the runc arguments they imply.
import { FS_SOCKET, MGR_SOCKET } from '@sysbox/common/paths';
import { flagSet, flagTokens, flagValue, SYSBOX_ONLY_GLOBALS, type ParsedArgs } from './cli/flags.js';

export interface GlobalContext {
  /** Global flags to hand runc, verbatim (Sysbox's own removed). */
  runcGlobals: string[];
  /** --root, if given: where the executor keeps each container's state dir (else its own default). */
  runcRoot: string | undefined;
  mgrSocket: string;
  fsSocket: string;
  debug: boolean;
  /** The original's --no-sysbox-fs / --no-sysbox-mgr given (as flag names): create and run refuse them. */
  withoutDaemons: string[];
}

export function globalContext(parsed: ParsedArgs): GlobalContext {
  return {
    runcGlobals: flagTokens(parsed, {}, SYSBOX_ONLY_GLOBALS),
    runcRoot: flagValue(parsed, 'root'),
    mgrSocket: flagValue(parsed, 'sysbox-mgr-socket') ?? process.env.SYSBOX_MGR_SOCKET ?? MGR_SOCKET,
    fsSocket: flagValue(parsed, 'sysbox-fs-socket') ?? process.env.SYSBOX_FS_SOCKET ?? FS_SOCKET,
    debug: flagSet(parsed, 'debug'),
    withoutDaemons: ['no-sysbox-fs', 'no-sysbox-mgr'].filter((n) => flagSet(parsed, n)),
  };
}

/** A command's exit status, or an error to report runc-style. */
export type CommandResult = Promise<number> | number;
