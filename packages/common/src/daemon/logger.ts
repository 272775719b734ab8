// winston logger for the daemons: logrus-style text (like runc and the original Sysbox) or JSON.
import winston from 'winston';

export type Logger = winston.Logger;
export type LogFormat = 'text' | 'json';

const quote = (v: unknown): string => JSON.stringify(String(v));
/** logrus' name for winston's `warn`, so alert rules written for the original match these logs. */
const logrusLevel = (level: string): string => (level === 'warn' ? 'warning' : level);

export function createLogger(opts: { level: string; format: LogFormat; file?: string }): Logger {
  const text = winston.format.printf((info) => `time="${String(info.timestamp)}" level=${logrusLevel(info.level)} msg=${quote(info.message)}`);
  return winston.createLogger({
    level: opts.level,
    format: winston.format.combine(
      winston.format.timestamp(),
      opts.format === 'json' ? winston.format.json() : text,
    ),
    transports: [opts.file ? new winston.transports.File({ filename: opts.file }) : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
