// The command line every daemon shares: the original's logging flags (its logrus levels, `fatal`
// and `warning` included), a repeated flag taking its last value, and runc-style refusals.
import yargs, { type Argv } from 'yargs';
import { versionText } from '../version.js';

/** logrus level names (the original's) onto winston's; `fatal` logs nothing but the fatal exit line. */
const LEVELS = { debug: 'debug', info: 'info', warning: 'warn', warn: 'warn', error: 'error', fatal: 'error' } as const;

export interface LogArgs {
  log?: string;
  /** A winston level. */
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** --log-level fatal: the logger stays silent; only main()'s fatal line is written. */
  silent: boolean;
  logFormat: 'text' | 'json';
}

export function daemonCli(name: string, usage: string, args: string[]): Argv<{ log: string | undefined; 'log-level': string; 'log-format': string }> {
  return yargs(args)
    .scriptName(name)
    .usage(`$0 [options]\n\n${usage}`)
    .option('log', { alias: 'l', type: 'string', describe: 'log file (default: stderr)' })
    .option('log-level', { type: 'string', default: 'info', choices: Object.keys(LEVELS), describe: 'log categories to include' })
    .option('log-format', { type: 'string', default: 'text', choices: ['text', 'json'], describe: 'log format' })
    .version(versionText(name).trimEnd())
    // A flag given twice takes its last value, as with the original's Go flags: the documented
    // `sed -i '/^ExecStart/ s/$/ --log-level debug/'` on a unit leaves `--log-level info --log-level debug`.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .strict()
    .fail((msg, err) => {
      process.stderr.write(`level=error msg=${JSON.stringify(msg ?? err?.message ?? 'bad arguments')}\n`);
      process.exit(2);
    });
}

export function logArgs(argv: { log?: string; 'log-level': string; 'log-format': string }): LogArgs {
  const level = argv['log-level'] as keyof typeof LEVELS;
  return { log: argv.log, logLevel: LEVELS[level], silent: level === 'fatal', logFormat: argv['log-format'] as 'text' | 'json' };
}
