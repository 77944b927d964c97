import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code, ConnectError } from '@connectrpc/connect';
import { ERROR_CODE_HEADER, ERROR_REASON_HEADER, ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { connectCodeFor, fromConnectError, toConnectError } from './errors.ts';

test("every code's Connect status (from the one table) is a real Connect code, pinned to today's mapping", () => {
  const byStatus: Record<string, ErrorCode[]> = {};
  for (const code of Object.values(ErrorCode)) {
    const status = connectCodeFor(code);
    assert.equal(typeof status, 'number', code);
    (byStatus[Code[status]] ??= []).push(code);
  }
  assert.deepEqual(byStatus, {
    Internal: ['INTERNAL', 'STORAGE', 'TPM_ERROR'],
    InvalidArgument: ['BAD_REQUEST', 'INVALID_RESOURCE', 'UNKNOWN_KIND', 'CONFIG'],
    NotFound: ['NOT_FOUND', 'NODE_NOT_FOUND', 'DB_NOT_FOUND', 'APP_NOT_FOUND'],
    AlreadyExists: ['ALREADY_EXISTS'],
    Aborted: ['CONFLICT'],
    PermissionDenied: [
      'ACCESS_DENIED',
      'DEVICE_ATTESTATION_FAILED',
      'DEVICE_NOT_ENROLLED',
      'DEVICE_UNTRUSTED',
      'TPM_PERMISSION_DENIED',
    ],
    Unauthenticated: ['BAD_CREDENTIALS', 'NOT_LOGGED_IN', 'CERT_EXPIRED', 'CERT_INVALID'],
    ResourceExhausted: ['RATE_LIMITED', 'REQUEST_TOO_LARGE'],
    Unavailable: [
      'NODE_UNREACHABLE',
      'DB_UNREACHABLE',
      'APP_UNREACHABLE',
      'PROXY_UNREACHABLE',
      'PROXY_UNTRUSTED',
      'TPM_UNAVAILABLE',
      'TPM_LOCKOUT',
    ],
    FailedPrecondition: ['TPM_BINDING'],
    Unimplemented: ['TPM_NOT_SUPPORTED'],
  });
});

test('every code survives the trip through a ConnectError', () => {
  for (const code of Object.values(ErrorCode)) {
    const wire = toConnectError(new GatehouseError(code, `msg for ${code}`));
    assert.equal(wire.metadata.get(ERROR_CODE_HEADER), code);
    const back = fromConnectError(wire);
    assert.equal(back.code, code);
    assert.equal(back.message, `msg for ${code}`);
  }
});

test('an unknown code from a newer peer falls back on the Connect status', () => {
  const e = new ConnectError('down', Code.Unavailable, { [ERROR_CODE_HEADER]: 'SHINY_NEW' });
  assert.equal(fromConnectError(e).code, ErrorCode.PROXY_UNREACHABLE);
  assert.equal(fromConnectError(new ConnectError('x', Code.NotFound)).code, ErrorCode.INTERNAL);
});

test('details.reason travels in its own header, so clients word refusals that share a code', () => {
  const wire = toConnectError(
    new GatehouseError(ErrorCode.ACCESS_DENIED, 'auto-enroll is off', { reason: 'auto_enroll_off', device_id: 'x' }),
  );
  assert.equal(wire.metadata.get(ERROR_REASON_HEADER), 'auto_enroll_off');
  assert.deepEqual(fromConnectError(wire).details, { reason: 'auto_enroll_off' });
  // Only plain snake_case words: free text in a reason stays on the server.
  for (const reason of ['Has Spaces', 'x'.repeat(65), 42, 'evil\r\nSet-Cookie: a']) {
    const plain = toConnectError(new GatehouseError(ErrorCode.ACCESS_DENIED, 'no', { reason }));
    assert.equal(plain.metadata.get(ERROR_REASON_HEADER), null, String(reason));
    assert.equal(fromConnectError(plain).details, undefined);
  }
  const forged = new ConnectError('no', Code.PermissionDenied, {
    [ERROR_CODE_HEADER]: 'ACCESS_DENIED',
    [ERROR_REASON_HEADER]: 'NOT A WORD',
  });
  assert.equal(fromConnectError(forged).details, undefined);
});
