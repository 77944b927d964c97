import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src-shared/errors.ts';
import type { HostIdentity } from '../auth/host-identity.ts';
import {
  decodeServiceAuditEvent,
  encodeServiceAuditEvent,
  MAX_SERVICE_AUDIT_JSON_BYTES,
  type ServiceAuditRequest,
} from './service-audit.ts';

const node: HostIdentity = { hostId: 'h-1', name: 'n1', role: 'node', clusterName: 'c', notAfter: new Date() };
const req = (over: Partial<ServiceAuditRequest>): ServiceAuditRequest => ({
  type: 'session.end',
  fieldsJson: '{}',
  success: true,
  user: '',
  message: '',
  ...over,
});

test('a service event round-trips, with the emitting server stamped over what it claimed', () => {
  const wire = encodeServiceAuditEvent({
    type: 'session.start',
    success: true,
    user: 'alice',
    fields: { session_id: 's', server_name: 'forged' },
  });
  assert.deepEqual(decodeServiceAuditEvent(node, wire), {
    type: 'session.start',
    success: true,
    user: 'alice',
    fields: { session_id: 's', server_name: 'n1', server_role: 'node', server_host_id: 'h-1' },
  });
  const denied = encodeServiceAuditEvent({ type: 'access.denied', success: false, message: 'locked' });
  assert.deepEqual(decodeServiceAuditEvent(node, denied), {
    type: 'access.denied',
    success: false,
    message: 'locked',
    fields: { server_name: 'n1', server_role: 'node', server_host_id: 'h-1' },
  });
});

test('types auth decides itself, oversized, malformed and mistyped events are refused', () => {
  assert.throws(() => decodeServiceAuditEvent(node, req({ type: 'user.login' })), { code: ErrorCode.ACCESS_DENIED });
  assert.throws(() => decodeServiceAuditEvent(node, req({ type: 'join.token.used' })), {
    code: ErrorCode.ACCESS_DENIED,
  });
  const big = JSON.stringify({ note: 'x'.repeat(MAX_SERVICE_AUDIT_JSON_BYTES) });
  assert.throws(() => decodeServiceAuditEvent(node, req({ fieldsJson: big })), { code: ErrorCode.REQUEST_TOO_LARGE });
  assert.throws(() => decodeServiceAuditEvent(node, req({ message: 'm'.repeat(MAX_SERVICE_AUDIT_JSON_BYTES + 1) })), {
    code: ErrorCode.REQUEST_TOO_LARGE,
  });
  assert.throws(() => decodeServiceAuditEvent(node, req({ fieldsJson: '{' })), /not JSON/);
  assert.throws(() => decodeServiceAuditEvent(node, req({ fieldsJson: '[]' })), /JSON object/);
  assert.throws(() => decodeServiceAuditEvent(node, req({ fieldsJson: '"text"' })), /JSON object/);
});
