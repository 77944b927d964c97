// What a joined service may put in auth's audit log (EmitAuditEvent), and the one wire format
// both sides use: fields_json is the event without its type, i.e. {success, user?, message?,
// fields?}. Auth accepts only the types services produce, bounds the text, and stamps the
// emitting service's name, role and host id (from its certificate) over whatever it sent.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AuditEventInput, AuditEventType } from '../audit/audit-events.ts';
import type { HostIdentity } from '../auth/host-identity.ts';

/** What node/session-audit.ts (and later db/app sessions) record; nothing auth decides itself. */
export const SERVICE_AUDIT_TYPES: readonly AuditEventType[] = ['session.start', 'session.end', 'access.denied'];
/** One event's JSON; a session event is well under 2 KiB. */
export const MAX_SERVICE_AUDIT_JSON_BYTES = 16 << 10;

/** The fields_json a service sends for `event` (see decodeServiceAuditEvent). */
export function encodeServiceAuditEvent(event: AuditEventInput): { type: string; fieldsJson: string } {
  const { type, ...rest } = event;
  return { type, fieldsJson: JSON.stringify(rest) };
}

function bad(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, message);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function decodeServiceAuditEvent(host: HostIdentity, type: string, fieldsJson: string): AuditEventInput {
  if (!(SERVICE_AUDIT_TYPES as readonly string[]).includes(type)) {
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      `services may not emit audit events of type ${JSON.stringify(type.slice(0, 64))} (allowed: ${SERVICE_AUDIT_TYPES.join(', ')})`,
    );
  }
  const bytes = Buffer.byteLength(fieldsJson, 'utf8');
  if (bytes > MAX_SERVICE_AUDIT_JSON_BYTES) {
    throw new GatehouseError(
      ErrorCode.REQUEST_TOO_LARGE,
      `audit event is ${bytes} bytes, at most ${MAX_SERVICE_AUDIT_JSON_BYTES} allowed`,
    );
  }
  let doc: unknown;
  try {
    doc = JSON.parse(fieldsJson);
  } catch (e) {
    throw bad(`fields_json is not JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(doc)) throw bad('fields_json must be a JSON object');
  const { success, user, message, fields } = doc;
  if (typeof success !== 'boolean') throw bad('fields_json.success must be true or false');
  if (user !== undefined && typeof user !== 'string') throw bad('fields_json.user must be a string');
  if (message !== undefined && typeof message !== 'string') throw bad('fields_json.message must be a string');
  if (fields !== undefined && !isPlainObject(fields)) throw bad('fields_json.fields must be an object');
  return {
    type: type as AuditEventType,
    success,
    ...(user !== undefined ? { user } : {}),
    ...(message !== undefined ? { message } : {}),
    fields: { ...fields, server_name: host.name, server_role: host.role, server_host_id: host.hostId },
  };
}
