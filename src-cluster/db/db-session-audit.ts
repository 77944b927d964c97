// db.session.start / db.session.query / db.session.end for one database session (GH3000-3002 in
// docs/database-access.md). The start (allowed or refused) is recorded when the decision is made;
// query events are handed to the emitter without waiting, so statements never wait for auth
// (the service's emitter batches them); the end carries the duration and the bytes relayed.
import { randomUUID } from 'node:crypto';
import type { DeviceFields } from '../../src-shared/cert-fields.ts';
import { recordRefusal, trustedDeviceField } from '../audit/audit-emit.ts';
import type { AuditEmitter, AuditEventInput } from '../audit/audit-events.ts';
import type { Logger } from '../log/logger.ts';

/**
 * Statement text kept per query event, as JSON text: auth refuses a service event whose fields
 * are over 16 KiB (join/service-audit.ts), and the other fields need the rest of that.
 */
export const MAX_AUDIT_STATEMENT_JSON_BYTES = 15 << 10;

export interface DbSessionAuditContext {
  audit: AuditEmitter;
  log: Logger;
  user: string;
  db: string;
  dbUser: string;
  dbName?: string;
  protocol: string;
  clientAddress: string;
  device?: DeviceFields;
  /** The cluster's device trust mode now: trusted_device is left out when it is "off", as for SSH. */
  deviceTrustMode: () => string;
}

/** `statement` cut so its JSON text fits MAX_AUDIT_STATEMENT_JSON_BYTES (never inside a character). */
export function capStatement(statement: string): { statement: string; truncated: boolean } {
  // A UTF-16 code unit is at most 6 bytes of JSON text (an escape such as \u001f; a character
  // outside ASCII is at most 3 bytes of UTF-8), so a short statement fits without being
  // serialized: the common case, once per statement on the data path.
  if (statement.length * 6 + 2 <= MAX_AUDIT_STATEMENT_JSON_BYTES) return { statement, truncated: false };
  const fits = (s: string) => Buffer.byteLength(JSON.stringify(s), 'utf8') <= MAX_AUDIT_STATEMENT_JSON_BYTES;
  if (fits(statement)) return { statement, truncated: false };
  // Binary search on the code-unit length; then step back off a split surrogate pair.
  let lo = 0;
  let hi = Math.min(statement.length, MAX_AUDIT_STATEMENT_JSON_BYTES);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(statement.slice(0, mid))) lo = mid;
    else hi = mid - 1;
  }
  const last = statement.charCodeAt(lo - 1);
  const cut = last >= 0xd800 && last <= 0xdbff ? lo - 1 : lo;
  return { statement: statement.slice(0, cut), truncated: true };
}

export class DbSessionAudit {
  readonly sessionId = randomUUID();
  #startedAt: number | undefined;

  constructor(private readonly ctx: DbSessionAuditContext) {}

  #fields(): Record<string, unknown> {
    const ctx = this.ctx;
    const fields: Record<string, unknown> = {
      db: ctx.db,
      db_user: ctx.dbUser,
      ...(ctx.dbName !== undefined ? { db_name: ctx.dbName } : {}),
      protocol: ctx.protocol,
      client_address: ctx.clientAddress,
    };
    const device = trustedDeviceField(ctx.device);
    if (device && ctx.deviceTrustMode() !== 'off') fields['trusted_device'] = device;
    return fields;
  }

  #emit(event: AuditEventInput): Promise<void> {
    return recordRefusal(this.ctx.audit, event, this.ctx.log);
  }

  /** The session was allowed and its reply sent. */
  started(): Promise<void> {
    this.#startedAt = Date.now();
    return this.#emit({
      type: 'db.session.start',
      success: true,
      user: this.ctx.user,
      fields: { ...this.#fields(), session_id: this.sessionId },
    });
  }

  /**
   * The session was refused: the reason as the client was told it. The error code goes in as
   * error_code: `code` is the audit log's own field (GH3000W), reserved, and an event carrying it is refused.
   */
  refused(reason: string, code: string): Promise<void> {
    return this.#emit({
      type: 'db.session.start',
      success: false,
      user: this.ctx.user,
      message: reason,
      // "code" is the audit log's own field (the event code, GH3000W): the error code goes beside it.
      fields: { ...this.#fields(), session_id: this.sessionId, reason, error_code: code },
    });
  }

  /** One statement; never awaited by the data path. */
  query(statement: string): void {
    const capped = capStatement(statement);
    void this.#emit({
      type: 'db.session.query',
      success: true,
      user: this.ctx.user,
      fields: {
        session_id: this.sessionId,
        db: this.ctx.db,
        db_user: this.ctx.dbUser,
        ...(this.ctx.dbName !== undefined ? { db_name: this.ctx.dbName } : {}),
        statement: capped.statement,
        ...(capped.truncated ? { truncated: true, statement_length: statement.length } : {}),
      },
    });
  }

  /** Only for a recorded start; `message` says why it ended when it was cut (a lock). */
  ended(bytes: { bytesIn: number; bytesOut: number }, message = ''): Promise<void> {
    if (this.#startedAt === undefined) return Promise.resolve();
    const durationMs = Date.now() - this.#startedAt;
    this.#startedAt = undefined;
    return this.#emit({
      type: 'db.session.end',
      success: true,
      user: this.ctx.user,
      message,
      fields: {
        ...this.#fields(),
        session_id: this.sessionId,
        duration_ms: durationMs,
        bytes_in: bytes.bytesIn,
        bytes_out: bytes.bytesOut,
      },
    });
  }
}
