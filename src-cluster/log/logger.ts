// Structured logs: every line has a time, a level and the component that wrote it, plus
// key=value fields. Text for people by default; JSON lines when a log shipper reads them.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(component: string): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  write?: (line: string) => void;
  component?: string;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (typeof v === 'bigint') return v.toString();
  return JSON.stringify(v);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const min = order[opts.level ?? 'info'];
  const format = opts.format ?? 'text';
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const component = opts.component ?? 'gatehouse';

  const log = (level: LogLevel, message: string, fields?: LogFields) => {
    if (order[level] < min) return;
    const time = new Date().toISOString();
    if (format === 'json') {
      const rec: LogFields = { time, level, component, message, ...fields };
      write(
        JSON.stringify(rec, (_k, v) => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v)),
      );
      return;
    }
    const extra = fields
      ? Object.entries(fields)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${formatValue(v)}`)
          .join(' ')
      : '';
    write(`${time} ${level.toUpperCase().padEnd(5)} [${component}] ${message}${extra ? ' ' + extra : ''}`);
  };
  return {
    debug: (m, f) => log('debug', m, f),
    info: (m, f) => log('info', m, f),
    warn: (m, f) => log('warn', m, f),
    error: (m, f) => log('error', m, f),
    child: (c) => createLogger({ ...opts, component: c }),
  };
}

/** A logger that records lines in memory, for tests that assert what was logged. */
export function createMemoryLogger(level: LogLevel = 'debug'): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, write: (l) => lines.push(l) });
  return Object.assign(logger, { lines });
}
