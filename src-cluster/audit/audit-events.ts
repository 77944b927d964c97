// The audit contract every component writes through: one call per security-relevant event,
// awaited before the action it records is acknowledged (an event that records a decision must
// not be lost when the process dies right after). The storage side lives in audit-log.ts.

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

/** For components built without an audit log (unit tests); says so in its name. */
export const discardAudit: AuditEmitter = { emit: async () => {} };
