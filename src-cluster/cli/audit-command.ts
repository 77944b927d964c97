// `gatectl audit`: reads the audit log through SearchAuditEvents. A text table for people, or
// JSON Lines (one event per line, as stored) for export to other tools.
import type { Command } from 'commander';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { parseDurationMs } from '../resources/duration.ts';
import { onAction } from '../../src-shared/cli/program.ts';
import { addAdminTargetOptions, adminClient, adminTargetOf, type AuthClient } from './admin-client.ts';
import { formatTable } from './cli-util.ts';

const AUDIT_DESCRIPTION = `Prints audit events, newest first unless --order asc.
T is an RFC 3339 time (2026-01-02T15:04:05Z) or a duration ago (30m, 24h).
--format json prints JSON Lines, one event per line as stored, for export to other tools.`;

export interface AuditOptions {
  since?: string;
  until?: string;
  type?: string;
  user?: string;
  limit?: string;
  order?: string;
  format?: string;
}

const PAGE = 1000;
const COMMON = new Set(['id', 'time', 'type', 'code', 'user', 'success', 'message']);

/** RFC 3339 / ISO time, or a duration meaning that long before `now`. */
export function parseAuditTime(text: string, flag: string, now = Date.now()): number {
  if (/^\d+(?:\.\d+)?(?:ms|h|m|s)(?:\d|$)/.test(text.trim())) return now - parseDurationMs(text);
  const ms = /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : NaN;
  if (!Number.isFinite(ms)) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `--${flag} "${text}" is neither an RFC 3339 time (2026-01-02T15:04:05Z) nor a duration ago (30m, 24h)`,
    );
  }
  return ms;
}

function scalar(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) || value === '' ? JSON.stringify(value) : value;
  return JSON.stringify(value);
}

/** The message, then the event's own fields as key=value (trusted_device shortened to its id). */
export function auditDetails(event: Record<string, unknown>): string {
  const parts: string[] = [];
  if (typeof event['message'] === 'string' && event['message']) parts.push(event['message']);
  for (const [key, value] of Object.entries(event)) {
    if (COMMON.has(key) || value === undefined || value === null || value === '') continue;
    if (key === 'trusted_device' && typeof value === 'object') {
      parts.push(`device=${(value as { device_id?: string }).device_id ?? '?'}`);
      continue;
    }
    parts.push(`${key}=${Array.isArray(value) ? value.join(',') : scalar(value)}`);
  }
  return parts.join(' ');
}

export function formatAuditTable(events: Record<string, unknown>[]): string {
  return formatTable(
    ['Time', 'Type', 'Code', 'User', 'Success', 'Details'],
    events.map((e) => [
      String(e['time']),
      String(e['type']),
      String(e['code']),
      String(e['user'] ?? ''),
      e['success'] ? 'yes' : 'no',
      auditDetails(e),
    ]),
  );
}

/** Checks the options before reaching the cluster, then pages through SearchAuditEvents up to --limit and writes a table or JSON Lines. */
export async function searchAudit(
  client: () => AuthClient,
  values: AuditOptions,
  write: (text: string) => void = (t) => process.stdout.write(t),
): Promise<void> {
  const format = values.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `--format must be text or json, got "${format}"`);
  }
  const order = values.order ?? 'desc';
  if (order !== 'asc' && order !== 'desc') {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `--order must be desc or asc, got "${order}"`);
  }
  const limitText = values.limit ?? '100';
  const limit = Number(limitText);
  if (!/^\d+$/.test(limitText) || !Number.isSafeInteger(limit) || limit < 1) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `--limit must be a positive whole number, got "${limitText}"`);
  }
  const now = Date.now();
  const since = values.since ? parseAuditTime(values.since, 'since', now) : 0;
  const until = values.until ? parseAuditTime(values.until, 'until', now) : 0;
  const api = client();
  const events: string[] = [];
  let cursor = '';
  do {
    const page = await api.searchAuditEvents({
      sinceUnixMs: BigInt(since),
      untilUnixMs: BigInt(until),
      type: values.type ?? '',
      user: values.user ?? '',
      limit: Math.min(PAGE, limit - events.length),
      order,
      cursor,
    });
    events.push(...page.eventsJson);
    cursor = page.nextCursor;
  } while (cursor && events.length < limit);
  if (format === 'json') {
    write(events.map((e) => e + '\n').join(''));
    return;
  }
  if (events.length === 0) {
    write('No audit events match.\n');
    return;
  }
  write(formatAuditTable(events.map((e) => JSON.parse(e) as Record<string, unknown>)));
}

export function registerAuditCommand(program: Command): void {
  const audit = program
    .command('audit')
    .summary('audit events, newest first; --format json prints JSON Lines for export')
    .description(AUDIT_DESCRIPTION)
    .option('--since <T>', 'events at or after T')
    .option('--until <T>', 'events before T')
    .option('--type <TYPE>', 'only events of this type (e.g. user.login)')
    .option('--user <NAME>', "only this user's events")
    .option('--limit <N>', 'events to print (default 100)')
    .option('--order <desc|asc>', 'newest first (desc, the default) or oldest first')
    .option('--format <text|json>', 'a table (default) or JSON Lines');
  addAdminTargetOptions(audit);
  onAction(audit, (cmd) => searchAudit(() => adminClient(adminTargetOf(cmd)), cmd.opts<AuditOptions>()));
}
