// The one structured logger of the cluster, the desktop app and the CLIs, on pino. Every line has a
// time, a level, the component that wrote it and a message, plus fields. Text for people (the
// format the daemon has always printed), JSON lines for machines. Secrets never reach a line:
// fields named like a password, token, private key, certificate or OTP are replaced by pino's
// redaction before anything is written, in both formats.
//
// No pino transports: they run in a worker thread, which the Electron main process should not
// spawn for logging. Lines are written synchronously to a sink (stderr by default); text is
// rendered from pino's JSON line by a small formatter below.
import { pino, stdTimeFunctions, type Logger as PinoLogger } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** The same sink and settings under another component name (replaces, does not nest). */
  child(component: string): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: 'text' | 'json';
  /** Receives each line without its newline; default: stderr. */
  write?: (line: string) => void;
  component?: string;
}

export const REDACTED = '[REDACTED]';

/**
 * Field names whose values are secrets. Matched as a top-level field and one level down (a field
 * that is an object, e.g. `{ request: { password } }`); deeper nesting is not searched, so pass
 * secrets' owners flat. Names are exact (pino redact paths), hence the spelling variants.
 */
export const SECRET_FIELD_NAMES: readonly string[] = [
  'password',
  'passwd',
  'new_password',
  'newPassword',
  'token',
  'join_token',
  'joinToken',
  'access_token',
  'refresh_token',
  'session_token',
  'bearer',
  'authorization',
  'cookie',
  'secret',
  'client_secret',
  'private_key',
  'privateKey',
  'private_key_pem',
  'privateKeyPem',
  'key_pem',
  'keyPem',
  'cert',
  'certificate',
  'cert_pem',
  'certPem',
  'tls_cert_pem',
  'tlsCertificatePem',
  'ssh_certificate',
  'sshCertificate',
  'otp',
  'totp',
  'otp_code',
  'totp_code',
  'recovery_code',
];

const REDACT_PATHS = SECRET_FIELD_NAMES.flatMap((name) => [name, `*.${name}`]);

/** What a field value looks like in a text line: bare when it can be, JSON otherwise. */
function formatTextValue(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** `2026-01-01T00:00:00.000Z INFO  [component] message k=v …` from one pino JSON line. */
export function renderTextLine(jsonLine: string): string {
  const { time, level, component, message, ...fields } = JSON.parse(jsonLine) as LogFields;
  const extra = Object.entries(fields)
    .map(([k, v]) => `${k}=${formatTextValue(v)}`)
    .join(' ');
  return `${String(time)} ${String(level).toUpperCase().padEnd(5)} [${String(component)}] ${String(message)}${extra ? ' ' + extra : ''}`;
}

/** Errors log as their message and bigints as decimal text, as before pino. */
function normalizeFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? v.message : typeof v === 'bigint' ? v.toString() : v;
  }
  return out;
}

function wrap(root: PinoLogger, component: string): Logger {
  const named = root.child({ component });
  // The message goes into the merged object (not pino's msg argument) so that JSON lines keep
  // their order: time/level, component, message, then the fields.
  const at = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (named.isLevelEnabled(level)) named[level]({ message, ...fields });
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (c) => wrap(root, c),
  };
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const render = opts.format === 'json' ? (l: string) => l : renderTextLine;
  const root = pino(
    {
      level: opts.level ?? 'info',
      base: null,
      timestamp: stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: REDACTED },
      formatters: { level: (label) => ({ level: label }), log: normalizeFields },
    },
    // pino hands the sink one complete JSON line (with its newline) per call, synchronously.
    { write: (chunk: string) => write(render(chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk)) },
  );
  return wrap(root, opts.component ?? 'gatehouse');
}

/** A logger that records lines in memory, for tests that assert what was logged. */
export function createMemoryLogger(
  level: LogLevel = 'debug',
  format: 'text' | 'json' = 'text',
): Logger & { lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({ level, format, write: (l) => lines.push(l) });
  return Object.assign(logger, { lines });
}
