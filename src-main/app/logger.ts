// The app's log sink: the core's logger plus error(), and a console one for the browser host's
// CLI. Lines go to stderr so stdout keeps only what a user (or a script) reads: the app URL.
import type { CoreLogger } from '../core/types.ts';

export interface AppLogger extends CoreLogger {
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const silentAppLogger: AppLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Accepts a core logger without error() (it then logs errors as warnings). */
export function toAppLogger(logger: CoreLogger | AppLogger | undefined): AppLogger {
  if (!logger) return silentAppLogger;
  if ('error' in logger && typeof logger.error === 'function') return logger;
  return {
    debug: (msg, fields) => logger.debug(msg, fields),
    info: (msg, fields) => logger.info(msg, fields),
    warn: (msg, fields) => logger.warn(msg, fields),
    error: (msg, fields) => logger.warn(msg, fields),
  };
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40 } as const;
export type LogLevel = keyof typeof LEVELS;

/** One line per entry: time, level, message, then the fields as JSON. */
export function consoleLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): AppLogger {
  const at = (l: LogLevel) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[l] < LEVELS[level]) return;
    const extra = fields && Object.keys(fields).length ? ' ' + JSON.stringify(fields) : '';
    write(`${new Date().toISOString()} ${l.toUpperCase()} ${msg}${extra}\n`);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
