// app.session.start / app.session.request / app.session.end for one gateway connection
// (GH4000-4002, docs/app-access.md "Audit"). A browser makes many requests per page, so request
// events are rate-limited per session by a token bucket (20 events, refilled at 5 per second):
// requests over the budget are counted instead of written, and the count rides on the next
// written request event and on the end event as `unlogged_requests`. Events are handed to the
// emitter without waiting (the service's remote emitter sends them in batches), so no request
// waits on auth.
import { randomUUID } from 'node:crypto';
import type { AppKind } from '../../src-shared/app-route.ts';
import type { DeviceFields } from '../../src-shared/cert-fields.ts';
import { recordRefusal, trustedDeviceField } from '../audit/audit-emit.ts';
import type { AuditEmitter, AuditEventInput } from '../audit/audit-events.ts';
import type { Logger } from '../log/logger.ts';

/** Request events a session may write at once. */
export const REQUEST_EVENT_BURST = 20;
/** Request events a session earns back per second. */
export const REQUEST_EVENTS_PER_SECOND = 5;
/** The longest path kept in a request event (the query string is never kept: it may hold secrets). */
export const MAX_AUDIT_PATH_CHARS = 2048;

export interface AppSessionAuditContext {
  audit: AuditEmitter;
  log: Logger;
  user: string;
  app: string;
  kind: AppKind;
  clientAddress: string;
  device?: DeviceFields;
  now?: () => number;
}

export interface AppRequestRecord {
  method: string;
  /** The request target as the client sent it; the query is cut off here. */
  url: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
}

/** The path of a request target: no query string, at most MAX_AUDIT_PATH_CHARS. */
export function auditPath(url: string): string {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  return path.length > MAX_AUDIT_PATH_CHARS ? path.slice(0, MAX_AUDIT_PATH_CHARS) : path;
}

export class AppSessionAudit {
  readonly sessionId = randomUUID();
  /** The app's spec.uri, once the app was found (a refusal before that has none). */
  appUri: string | undefined;
  #startedAt: number | undefined;
  #tokens = REQUEST_EVENT_BURST;
  #refilledAt: number;
  /** Requests not written since the last written request event. */
  #pendingUnlogged = 0;
  #requests = 0;
  #unloggedTotal = 0;
  readonly #now: () => number;

  constructor(private readonly ctx: AppSessionAuditContext) {
    this.#now = ctx.now ?? Date.now;
    this.#refilledAt = this.#now();
  }

  #emit(event: AuditEventInput): Promise<void> {
    return recordRefusal(this.ctx.audit, event, this.ctx.log);
  }

  #startFields(): Record<string, unknown> {
    const ctx = this.ctx;
    const device = trustedDeviceField(ctx.device);
    return {
      session_id: this.sessionId,
      app: ctx.app,
      ...(this.appUri !== undefined ? { app_uri: this.appUri } : {}),
      kind: ctx.kind,
      client_address: ctx.clientAddress,
      // For apps device trust comes from roles, so the device is always worth recording.
      ...(device ? { trusted_device: device } : {}),
    };
  }

  /** The session was allowed and its reply sent. */
  started(): Promise<void> {
    this.#startedAt = this.#now();
    return this.#emit({ type: 'app.session.start', success: true, user: this.ctx.user, fields: this.#startFields() });
  }

  /** Refused: the reason as the user was told it; the error code beside the log's own `code`. */
  refused(reason: string, code: string): Promise<void> {
    return this.#emit({
      type: 'app.session.start',
      success: false,
      user: this.ctx.user,
      message: reason,
      fields: { ...this.#startFields(), reason, error_code: code },
    });
  }

  /** One finished request; written when the session's bucket has a token, else counted. */
  request(record: AppRequestRecord): void {
    this.#requests++;
    const now = this.#now();
    const earned = ((now - this.#refilledAt) / 1000) * REQUEST_EVENTS_PER_SECOND;
    this.#tokens = Math.min(REQUEST_EVENT_BURST, this.#tokens + earned);
    this.#refilledAt = now;
    if (this.#tokens < 1) {
      this.#pendingUnlogged++;
      this.#unloggedTotal++;
      return;
    }
    this.#tokens -= 1;
    const unlogged = this.#pendingUnlogged;
    this.#pendingUnlogged = 0;
    void this.#emit({
      type: 'app.session.request',
      success: record.status < 400,
      user: this.ctx.user,
      fields: {
        session_id: this.sessionId,
        app: this.ctx.app,
        method: record.method,
        path: auditPath(record.url),
        status: record.status,
        bytes_in: record.bytesIn,
        bytes_out: record.bytesOut,
        duration_ms: record.durationMs,
        ...(unlogged > 0 ? { unlogged_requests: unlogged } : {}),
      },
    });
  }

  /**
   * Only after a recorded start. `unlogged_requests` is the session's total of requests not
   * written one by one (so requests = written request events + unlogged_requests);
   * `reason` says why it was cut (a lock, an expired certificate).
   */
  ended(bytes: { bytesIn: number; bytesOut: number }, reason?: string): Promise<void> {
    if (this.#startedAt === undefined) return Promise.resolve();
    const durationMs = this.#now() - this.#startedAt;
    this.#startedAt = undefined;
    return this.#emit({
      type: 'app.session.end',
      success: true,
      user: this.ctx.user,
      ...(reason ? { message: reason } : {}),
      fields: {
        session_id: this.sessionId,
        app: this.ctx.app,
        duration_ms: durationMs,
        requests: this.#requests,
        unlogged_requests: this.#unloggedTotal,
        bytes_in: bytes.bytesIn,
        bytes_out: bytes.bytesOut,
        ...(reason ? { reason } : {}),
      },
    });
  }
}
