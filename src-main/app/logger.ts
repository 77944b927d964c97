// The app's log sink: the core's logger plus error(), and a console one for the browser host's
// CLI. Lines go to stderr so stdout keeps only what a user (or a script) reads: the app URL.
import type { CoreLogger } from '../core/types.ts';
import { createLogger, type LogLevel } from '../../src-shared/logger.ts';

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

export type { LogLevel } from '../../src-shared/logger.ts';

/**
 * The browser host's and tests' logger: the shared structured logger (pino, secrets redacted) in
 * its text format, component "app". `write` receives each line with its newline.
 */
export function consoleLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): AppLogger {
  return createLogger({ level, format: 'text', component: 'app', write: (line) => write(line + '\n') });
}
