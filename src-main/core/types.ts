// Small dependency shapes the core services take instead of reaching for globals.

/** The current time; tests pass a fixed or stepping clock. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** Structured log sink; the CLI passes a quiet one, the desktop app its own logger. */
export interface CoreLogger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export const silentLogger: CoreLogger = { debug() {}, info() {}, warn() {} };
