// runc-style logging: logrus text (`time=... level=... msg=...`) or JSON lines, to --log or stderr.
// Fatal errors also go to stderr as a `level=error msg=...` line, so containerd (which reads the log
// file) and a person at a terminal both see why a command failed.
import fs from 'node:fs';

export type Level = 'debug' | 'info' | 'warning' | 'error';

export interface LogOptions { file?: string; format: 'text' | 'json'; debug: boolean }

/** Without --log, --log-format or --debug: text on stderr, no debug lines. */
export const DEFAULT_LOG_OPTIONS: LogOptions = { format: 'text', debug: false };

let opts: LogOptions = DEFAULT_LOG_OPTIONS;

const processStderr = (text: string): void => { process.stderr.write(text); };

/** Where stderr text goes: a pre-started create relays it to its launcher. */
let toStderr = processStderr;

/** Sends stderr text to write; without one, back to this process's stderr. */
export function redirectStderr(write: (text: string) => void = processStderr): void { toStderr = write; }

export function configureLog(o: LogOptions): void { opts = o; }

function line(level: Level, msg: string, format: 'text' | 'json'): string {
  const time = new Date().toISOString();
  if (format === 'json') return `${JSON.stringify({ level, msg, time })}\n`;
  return `time="${time}" level=${level} msg=${JSON.stringify(msg)}\n`;
}

/**
 * Milliseconds since the process started (performance's time origin: before Node's own start-up,
 * which is part of every command's cost); debug lines carry it to show where time goes.
 */
export function elapsedMs(): string {
  return performance.now().toFixed(1);
}

export function log(level: Level, msg: string): void {
  if (level === 'debug' && !opts.debug) return;
  if (level === 'debug') msg = `[+${elapsedMs()}ms] ${msg}`;
  const text = line(level, msg, opts.format);
  try {
    if (opts.file) fs.appendFileSync(opts.file, text);
    else toStderr(text);
  } catch {
    toStderr(text);
  }
}

/** Logs the error and prints it on stderr too (once, if the log already is stderr). */
export function logFatal(msg: string): void {
  log('error', msg);
  if (opts.file) toStderr(line('error', msg, 'text'));
}
