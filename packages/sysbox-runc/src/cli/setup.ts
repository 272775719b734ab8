// The global flags that configure this process itself (logging, the executor), for a command run
// by main and for one handed to a pre-started create alike.
import { flagSet, flagValue, UsageError, type ParsedArgs } from './flags.js';
import { globalContext } from '../context.js';
import { configuredExecutor, useExecutor } from '../executor.js';
import { configureLog, DEFAULT_LOG_OPTIONS } from '../log.js';

export function applyGlobalFlags(globals: ParsedArgs): void {
  const format = flagValue(globals, 'log-format') ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(`invalid log format "${format}"`);
  configureLog({ file: flagValue(globals, 'log'), format, debug: flagSet(globals, 'debug') });
  const executor = flagValue(globals, 'executor');
  if (executor === undefined) useExecutor(configuredExecutor(globalContext(globals).mgrSocket));
  else if (!executor.startsWith('/')) throw new UsageError(`--executor must be an absolute path, not "${executor}"`);
  else useExecutor(executor);
}

/** Back to how the process started: a pre-started create serves the next request with no flags of the last. */
export function resetGlobalFlags(): void {
  configureLog(DEFAULT_LOG_OPTIONS);
}
