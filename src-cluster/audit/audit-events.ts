// The audit contract every component writes through: one call per security-relevant event,
// awaited before the action it records is acknowledged (an event that records a decision must
// not be lost when the process dies right after). The storage side lives in audit-log.ts.

import type { Backend, BatchOp } from '../storage/backend.ts';
export const AUDIT_EVENT_TYPES = [
  'user.login',
  'cert.create',
  'session.start',
  'session.end',
  'access.denied',
  'device.create',
  'device.update',
  'device.delete',
  'device.token.create',
  'device.enroll',
  'device.authenticate',
  'lock.create',
  'lock.delete',
  'resource.create',
  'resource.update',
  'resource.delete',
  'join.token.create',
  'join.token.delete',
  'join.token.used',
  'join.token.failed',
  'service.auth.failed',
  'db.session.start',
  'db.session.query',
  'db.session.end',
  'app.session.start',
  'app.session.request',
  'app.session.end',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** The device a certificate was issued for, as session and cert events carry it. */
export interface TrustedDeviceField {
  device_id: string;
  asset_tag: string;
  credential_id: string;
}

export interface AuditEventInput {
  type: AuditEventType;
  success: boolean;
  /** The user the event is about (who logged in, whose session, who created the lock). */
  user?: string;
  /** Human-readable; for failures, why. */
  message?: string;
  /** Event-specific fields (login, node, session_id, lock target, trusted_device, ...). */
  fields?: Record<string, unknown>;
}

export interface AuditEmitter {
  emit(event: AuditEventInput): Promise<void>;
}

/** An emitter that can also store several events in one transaction (all or none). */
export interface AuditBatchEmitter extends AuditEmitter {
  emitMany(events: readonly AuditEventInput[]): Promise<void>;
}

/** An emitter whose events can ride a storage transaction of the caller's own (AuditLog.writesIn). */
export interface AuditTransactionEmitter extends AuditEmitter {
  writesIn(storage: Backend, inputs: readonly AuditEventInput[]): { ops: BatchOp[]; stored: () => void } | undefined;
}

/** For components built without an audit log (unit tests); says so in its name. */
export const discardAudit: AuditEmitter = { emit: async () => {} };

/**
 * The most characters (code points) of a user name an audit event keeps. Names reach the audit
 * log from unauthenticated clients (failed logins); unbounded, a 2 MiB name made each event 2 MiB
 * and its `by_user` index key longer than storage accepts. Real user names have at most 63.
 * 64 code points URI-encode to at most 768 characters, which leaves the index key under 1024.
 */
export const MAX_AUDIT_USER_CHARS = 64;

/**
 * A user name as audit events and log lines may carry it: lone surrogates (not encodable) become
 * U+FFFD, and a name longer than MAX_AUDIT_USER_CHARS is cut and marked with "…".
 */
export function boundedUserName(user: string): { name: string; truncated: boolean; length: number } {
  const points = Array.from(user.slice(0, MAX_AUDIT_USER_CHARS * 2 + 2), (c) => {
    const code = c.charCodeAt(0);
    return c.length === 1 && code >= 0xd800 && code <= 0xdfff ? '\ufffd' : c;
  });
  if (points.length <= MAX_AUDIT_USER_CHARS) {
    return { name: points.join(''), truncated: false, length: user.length };
  }
  return { name: points.slice(0, MAX_AUDIT_USER_CHARS).join('') + '…', truncated: true, length: user.length };
}
