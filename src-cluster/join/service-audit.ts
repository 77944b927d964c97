// What a joined service may put in auth's audit log (EmitAuditEvent), and the one mapping both
// sides use between an AuditEventInput and the request (type, success, user, message, and the
// fields as fields_json). Auth accepts only the types services produce, bounds the text, and
// stamps the emitting service's name, role and host id (from its certificate) over what it sent.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AuditEventInput, AuditEventType } from '../audit/audit-events.ts';
import type { HostIdentity } from '../auth/host-identity.ts';

/** What node/session-audit.ts (and later db/app sessions) record; nothing auth decides itself. */
export const SERVICE_AUDIT_TYPES: readonly AuditEventType[] = [
  'session.start',
  'session.end',
  'access.denied',
  'db.session.start',
  'db.session.query',
  'db.session.end',
  'app.session.start',
  'app.session.request',
  'app.session.end',
];
/**
 * One event's JSON. A session event is well under 2 KiB; a db.session.query event carries a
 * statement of up to 16 KiB, which JSON escaping (quotes, newlines) can make up to a few times longer.
 */
export const MAX_SERVICE_AUDIT_JSON_BYTES = 64 << 10;

/** An EmitAuditEvent request as the service side sends it. */
export interface ServiceAuditRequest {
  type: string;
  fieldsJson: string;
  success: boolean;
  user: string;
  message: string;
}

/** The request a service sends for `event` (see decodeServiceAuditEvent). */
export function encodeServiceAuditEvent(event: AuditEventInput): ServiceAuditRequest {
  return {
    type: event.type,
    fieldsJson: JSON.stringify(event.fields ?? {}),
    success: event.success,
    user: event.user ?? '',
    message: event.message ?? '',
  };
}

function bad(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function decodeServiceAuditEvent(host: HostIdentity, req: ServiceAuditRequest): AuditEventInput {
  const { type, fieldsJson } = req;
  if (!(SERVICE_AUDIT_TYPES as readonly string[]).includes(type)) {
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      `services may not emit audit events of type ${JSON.stringify(type.slice(0, 64))} (allowed: ${SERVICE_AUDIT_TYPES.join(', ')})`,
    );
  }
  const bytes = Buffer.byteLength(fieldsJson, 'utf8') + Buffer.byteLength(req.message, 'utf8');
  if (bytes > MAX_SERVICE_AUDIT_JSON_BYTES) {
    throw new GatehouseError(
      ErrorCode.REQUEST_TOO_LARGE,
      `audit event is ${bytes} bytes, at most ${MAX_SERVICE_AUDIT_JSON_BYTES} allowed`,
    );
  }
  let fields: unknown;
  try {
    fields = fieldsJson === '' ? {} : JSON.parse(fieldsJson);
  } catch (e) {
    throw bad(`fields_json is not JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(fields)) throw bad('fields_json must be a JSON object');
  return {
    type: type as AuditEventType,
    success: req.success,
    ...(req.user ? { user: req.user } : {}),
    ...(req.message ? { message: req.message } : {}),
    fields: { ...fields, server_name: host.name, server_role: host.role, server_host_id: host.hostId },
  };
}
