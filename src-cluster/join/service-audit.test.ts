import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src-shared/errors.ts';
import type { HostIdentity } from '../auth/host-identity.ts';
import { decodeServiceAuditEvent, encodeServiceAuditEvent, MAX_SERVICE_AUDIT_JSON_BYTES } from './service-audit.ts';

const node: HostIdentity = { hostId: 'h-1', name: 'n1', role: 'node', clusterName: 'c', notAfter: new Date() };

test('a service event round-trips, with the emitting server stamped over what it claimed', () => {
  const wire = encodeServiceAuditEvent({
    type: 'session.start',
    success: true,
    user: 'alice',
    fields: { session_id: 's', server_name: 'forged' },
  });
  assert.deepEqual(decodeServiceAuditEvent(node, wire.type, wire.fieldsJson), {
    type: 'session.start',
    success: true,
    user: 'alice',
    fields: { session_id: 's', server_name: 'n1', server_role: 'node', server_host_id: 'h-1' },
  });
});

test('types auth decides itself, oversized, malformed and mistyped events are refused', () => {
  assert.throws(() => decodeServiceAuditEvent(node, 'user.login', '{"success":true}'), {
    code: ErrorCode.ACCESS_DENIED,
  });
  assert.throws(() => decodeServiceAuditEvent(node, 'join.token.used', '{"success":true}'), {
    code: ErrorCode.ACCESS_DENIED,
  });
  const big = JSON.stringify({ success: true, message: 'x'.repeat(MAX_SERVICE_AUDIT_JSON_BYTES) });
  assert.throws(() => decodeServiceAuditEvent(node, 'session.end', big), { code: ErrorCode.REQUEST_TOO_LARGE });
  assert.throws(() => decodeServiceAuditEvent(node, 'session.end', '{'), /not JSON/);
  assert.throws(() => decodeServiceAuditEvent(node, 'session.end', '[]'), /JSON object/);
  assert.throws(() => decodeServiceAuditEvent(node, 'session.end', '{"success":"yes"}'), /success/);
  assert.throws(() => decodeServiceAuditEvent(node, 'session.end', '{"success":true,"fields":[1]}'), /fields/);
});
