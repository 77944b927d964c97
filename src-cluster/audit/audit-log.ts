// The audit log over any storage Backend: append-only events, queryable by time, type and user.
//
// Layout (keys sort by code point, so ISO times sort chronologically):
//   /audit/events/<time>/<seq>/<uuid>           the event as JSON (the only copy)
//   /audit/by_type/<type>/<time>/<seq>/<uuid>    '' — points at the event with the same suffix
//   /audit/by_user/<user, URI-encoded>/<time>/<seq>/<uuid>   ''
// <seq> orders events of one process within one millisecond. Every key is written with
// create(), so nothing is ever overwritten, and this class has no way to delete.
//
// Event codes — stable per type and outcome (I = success, W = failure), like Teleport's:
//   user.login GH1000 · cert.create GH1001 · session.start GH2000 · session.end GH2004 ·
//   access.denied GH2010 · device.create GH6000 · device.update GH6001 · device.delete GH6002 ·
//   device.token.create GH6003 · device.enroll GH6004 · device.authenticate GH6005 ·
//   lock.create GH7000 · lock.delete GH7001 · resource.create GH9000 · resource.update GH9001 ·
//   resource.delete GH9002
import { randomUUID } from 'node:crypto';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { Backend, BatchOp, Item } from '../storage/backend.ts';
import {
  AUDIT_EVENT_TYPES,
  boundedUserName,
  type AuditEventInput,
  type AuditTransactionEmitter,
  type AuditEventType,
} from './audit-events.ts';

const CODE_NUMBERS: Record<AuditEventType, string> = {
  'user.login': 'GH1000',
  'cert.create': 'GH1001',
  'session.start': 'GH2000',
  'session.end': 'GH2004',
  'access.denied': 'GH2010',
  'device.create': 'GH6000',
  'device.update': 'GH6001',
  'device.delete': 'GH6002',
  'device.token.create': 'GH6003',
  'device.enroll': 'GH6004',
  'device.authenticate': 'GH6005',
  'lock.create': 'GH7000',
  'lock.delete': 'GH7001',
  'resource.create': 'GH9000',
  'resource.update': 'GH9001',
  'resource.delete': 'GH9002',
  'join.token.create': 'GH8000',
  'join.token.delete': 'GH8001',
  'join.token.used': 'GH8002',
  'join.token.failed': 'GH8003',
  'service.auth.failed': 'GH8004',
  'db.session.start': 'GH3000',
  'db.session.query': 'GH3001',
  'db.session.end': 'GH3002',
  'app.session.start': 'GH4000',
  'app.session.request': 'GH4001',
  'app.session.end': 'GH4002',
};

export function auditCode(type: AuditEventType, success: boolean): string {
  return CODE_NUMBERS[type] + (success ? 'I' : 'W');
}

/** A stored event: the common fields, then the event's own fields at the top level. */
export interface AuditEvent {
  id: string;
  time: string;
  type: AuditEventType;
  code: string;
  user: string;
  success: boolean;
  message: string;
  [field: string]: unknown;
}

const RESERVED = new Set(['id', 'time', 'type', 'code', 'user', 'success', 'message']);

export interface AuditQuery {
  /** Inclusive; default: the beginning. */
  since?: Date;
  /** Exclusive; default: now (plus a little, so events of this millisecond count). */
  until?: Date;
  type?: AuditEventType;
  user?: string;
  /** Page size, 1..1000; default 100. */
  limit?: number;
  /** 'desc' (newest first, the default) or 'asc'. */
  order?: 'asc' | 'desc';
  /** From a previous page's nextCursor, with the same query. */
  cursor?: string;
}

export interface AuditPage {
  events: AuditEvent[];
  /** Set when more events match; pass it back as `cursor` for the next page. */
  nextCursor?: string;
}

export const AUDIT_PREFIX = '/audit/';
const EVENTS = '/audit/events/';
const BY_TYPE = '/audit/by_type/';
const BY_USER = '/audit/by_user/';
export const MAX_AUDIT_PAGE = 1000;
const SUFFIX = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\/[0-9a-z]{6}\/[0-9a-f-]{36}$/;
// Desc scans walk back in time windows of about this many keys (the Backend lists ascending only).
const DESC_WINDOW_TARGET = 200;

export interface AuditLogOptions {
  /** Unix milliseconds; benchmarks and tests pass their own. */
  now?: () => number;
}

export class AuditLog implements AuditTransactionEmitter {
  readonly #backend: Backend;
  readonly #now: () => number;
  #lastMs = -1;
  #seq = 0;

  constructor(backend: Backend, options: AuditLogOptions = {}) {
    this.#backend = backend;
    this.#now = options.now ?? Date.now;
  }

  /** Resolves once the event and its index keys are stored; throws STORAGE otherwise. */
  async emit(input: AuditEventInput): Promise<void> {
    await this.append(input);
  }

  /** emit() that returns the stored event (tests and the CLI's own checks use it). */
  async append(input: AuditEventInput): Promise<AuditEvent> {
    const [event] = await this.appendMany([input]);
    return event!;
  }

  /**
   * Several events in ONE storage transaction (a db service's burst of query events): all are
   * stored or none. Each is checked as append() checks it before anything is written.
   */
  async emitMany(inputs: readonly AuditEventInput[]): Promise<void> {
    await this.appendMany(inputs);
  }

  async appendMany(inputs: readonly AuditEventInput[]): Promise<AuditEvent[]> {
    const built = inputs.map((input) => this.#build(input));
    if (built.length === 0) return [];
    try {
      // One transaction: an index key never points at nothing, and no event misses its indexes.
      await this.#backend.batch(eventOps(built));
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      const types = [...new Set(inputs.map((i) => i.type))].join(', ');
      throw new GatehouseError(ErrorCode.STORAGE, `audit log could not record ${types}: ${why}`, {
        cause: isGatehouseError(error) ? error.code : why,
      });
    }
    return built.map((b) => b.event);
  }

  /**
   * The writes that store `inputs`, for a transaction of the caller's own in `storage` (a device's
   * data and the events saying it was authenticated: both or neither, one commit), or undefined
   * when this log keeps its events in another storage. Each event is checked as append() checks
   * it; call `stored()` once the caller's transaction committed.
   */
  writesIn(storage: Backend, inputs: readonly AuditEventInput[]): { ops: BatchOp[]; stored: () => void } | undefined {
    if (storage !== this.#backend) return undefined;
    return { ops: eventOps(inputs.map((input) => this.#build(input))), stored: () => this.observeStored(inputs) };
  }

  /** Called for events stored through writesIn() (the metered log counts them there too). */
  protected observeStored(_inputs: readonly AuditEventInput[]): void {}

  /** The stored form of one event and its key suffix; throws for unknown types and reserved fields. */
  #build(input: AuditEventInput): { event: AuditEvent; suffix: string } {
    if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(input.type)) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `unknown audit event type ${JSON.stringify(input.type)}`);
    }
    const fields = input.fields ?? {};
    const clash = Object.keys(fields).find((k) => RESERVED.has(k));
    if (clash) throw new GatehouseError(ErrorCode.INTERNAL, `audit field "${clash}" is reserved (${input.type})`);
    // Every event's user is bounded here, so no caller can make an event or index key unbounded.
    const user = boundedUserName(input.user ?? '');
    const ms = Math.floor(this.#now());
    this.#seq = ms === this.#lastMs ? this.#seq + 1 : 0;
    this.#lastMs = ms;
    const event: AuditEvent = {
      ...fields,
      ...(user.truncated ? { user_length: user.length } : {}),
      id: randomUUID(),
      time: new Date(ms).toISOString(),
      type: input.type,
      code: auditCode(input.type, input.success),
      user: user.name,
      success: input.success,
      message: input.message ?? '',
    };
    return { event, suffix: `${event.time}/${this.#seq.toString(36).padStart(6, '0')}/${event.id}` };
  }

  async search(query: AuditQuery = {}): Promise<AuditPage> {
    const limit = query.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_AUDIT_PAGE) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `audit page limit must be 1..${MAX_AUDIT_PAGE}, got ${limit}`);
    }
    const order = query.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc') {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `audit order must be asc or desc, got ${String(order)}`);
    }
    if (query.type !== undefined && !(AUDIT_EVENT_TYPES as readonly string[]).includes(query.type)) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `unknown audit event type ${JSON.stringify(query.type)}`);
    }
    const sinceMs = timeOf(query.since, 'since') ?? 0;
    const untilMs = timeOf(query.until, 'until') ?? Math.floor(this.#now()) + 1;
    // The user index holds fewer keys per match than the type index when both filters are set.
    const prefix = query.user
      ? `${BY_USER}${userSegment(query.user)}/`
      : query.type
        ? `${BY_TYPE}${query.type}/`
        : EVENTS;
    const wantType = query.user && query.type ? query.type : undefined;
    let lo: Bound = { key: prefix + isoOf(sinceMs), ms: sinceMs };
    let hi: Bound = { key: prefix + isoOf(untilMs), ms: untilMs };
    if (query.cursor) {
      const suffix = parseCursor(query.cursor, order);
      const ms = Date.parse(suffix.slice(0, 24));
      if (order === 'asc') lo = { key: prefix + suffix + '\u0000', ms };
      else hi = { key: prefix + suffix, ms };
    }
    if (lo.key >= hi.key) return { events: [] };

    const events: AuditEvent[] = [];
    let lastSuffix = '';
    const scan = order === 'asc' ? this.#scanAsc(lo, hi, limit + 1) : this.#scanDesc(lo, hi, prefix);
    for await (const item of scan) {
      const suffix = item.key.slice(prefix.length);
      const event = prefix === EVENTS ? parseEvent(item) : await this.#load(suffix);
      if (!event || (wantType && event.type !== wantType)) continue;
      if (events.length === limit) return { events, nextCursor: makeCursor(order, lastSuffix) };
      events.push(event);
      lastSuffix = suffix;
    }
    return { events };
  }

  async #load(suffix: string): Promise<AuditEvent | undefined> {
    const item = await this.#backend.get(EVENTS + suffix);
    return item && parseEvent(item);
  }

  async *#scanAsc(lo: Bound, hi: Bound, batch: number): AsyncGenerator<Item> {
    let start = lo.key;
    for (;;) {
      const items = await this.#backend.listRange(start, hi.key, batch);
      yield* items;
      if (items.length < batch) return;
      start = items.at(-1)!.key + '\u0000';
    }
  }

  // Walks back from `hi` in time windows sized so each holds about DESC_WINDOW_TARGET keys,
  // reading each window ascending and yielding it reversed.
  async *#scanDesc(lo: Bound, hi: Bound, prefix: string): AsyncGenerator<Item> {
    const cap = DESC_WINDOW_TARGET * 4;
    let end = hi;
    let widthMs = 60_000;
    while (end.key > lo.key) {
      const startMs = Math.max(lo.ms, end.ms - widthMs);
      const start: Bound = startMs <= lo.ms ? lo : { key: prefix + isoOf(startMs), ms: startMs };
      let items = await this.#backend.listRange(start.key, end.key, cap);
      if (items.length === cap) {
        if (end.ms - startMs > 1) {
          // Too dense: narrow the window and read again.
          widthMs = Math.max(1, Math.floor((end.ms - startMs) / 8));
          continue;
        }
        items = await this.#backend.listRange(start.key, end.key);
      }
      for (let i = items.length - 1; i >= 0; i--) yield items[i]!;
      const span = Math.max(1, end.ms - start.ms);
      end = start;
      widthMs = items.length === 0 ? span * 8 : Math.max(1, Math.ceil((span * DESC_WINDOW_TARGET) / items.length));
    }
  }
}

interface Bound {
  key: string;
  ms: number;
}

// Users may contain '/', which would split the key; encodeURIComponent keeps order within a user.
function userSegment(user: string): string {
  return encodeURIComponent(user);
}

function isoOf(ms: number): string {
  // Key times are 24-character ISO strings (years 0000-9999); clamp so bounds stay comparable.
  return new Date(Math.min(Math.max(ms, 0), 253402300799999)).toISOString();
}

function timeOf(date: Date | undefined, name: string): number | undefined {
  if (date === undefined) return undefined;
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new GatehouseError(ErrorCode.BAD_REQUEST, `audit ${name} is not a valid time`);
  return ms;
}

function parseEvent(item: Item): AuditEvent | undefined {
  try {
    return JSON.parse(item.value) as AuditEvent;
  } catch {
    return undefined;
  }
}

function makeCursor(order: 'asc' | 'desc', suffix: string): string {
  return Buffer.from(`${order}:${suffix}`).toString('base64url');
}

function parseCursor(cursor: string, order: 'asc' | 'desc'): string {
  const text = Buffer.from(cursor, 'base64url').toString();
  const [cursorOrder, suffix] = [text.slice(0, text.indexOf(':')), text.slice(text.indexOf(':') + 1)];
  if (cursorOrder !== order || !SUFFIX.test(suffix)) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'audit cursor is not valid for this query');
  }
  return suffix;
}

/** An event and its index keys, each created (never overwritten). */
function eventOps(built: readonly { event: AuditEvent; suffix: string }[]): BatchOp[] {
  const ops: BatchOp[] = [];
  for (const { event, suffix } of built) {
    ops.push(
      { type: 'create', item: { key: EVENTS + suffix, value: JSON.stringify(event) } },
      { type: 'create', item: { key: `${BY_TYPE}${event.type}/${suffix}`, value: '' } },
    );
    if (event.user) {
      ops.push({ type: 'create', item: { key: `${BY_USER}${userSegment(event.user)}/${suffix}`, value: '' } });
    }
  }
  return ops;
}
