import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_TABLE, ErrorCode, errorCodeInfo, exitCodeFor, isErrorCode, type ErrorCodeInfo } from './errors.ts';

const COLUMNS: (keyof ErrorCodeInfo)[] = ['exit', 'connect', 'text', 'nextStep', 'showDetail', 'relogin'];

test('every ErrorCode has an entry in every column of the one table', () => {
  const codes = Object.values(ErrorCode);
  assert.deepEqual(codes, Object.keys(ERROR_TABLE));
  assert.ok(codes.length >= 29);
  for (const code of codes) {
    assert.equal(ErrorCode[code], code);
    const info = errorCodeInfo(code);
    assert.deepEqual(Object.keys(info).sort(), [...COLUMNS].sort(), code);
    assert.ok(Number.isInteger(info.exit) && info.exit >= 1 && info.exit <= 7, `${code}: exit ${info.exit}`);
    assert.match(info.connect, /^[A-Z][A-Za-z]+$/, code);
    assert.match(info.text, /^\S.{4,}[.!?]$/, `${code}: text is not a sentence`);
    assert.match(info.nextStep, /^\S.{4,}[.!?]$/, `${code}: next step is not a sentence`);
    assert.equal(typeof info.showDetail, 'boolean', code);
    assert.equal(typeof info.relogin, 'boolean', code);
  }
});

test("exit codes stay what scripts rely on (today's values, pinned)", () => {
  const byExit: Record<number, ErrorCode[]> = {};
  for (const code of Object.values(ErrorCode)) (byExit[exitCodeFor(code)] ??= []).push(code);
  assert.deepEqual(byExit, {
    1: ['INTERNAL', 'STORAGE'],
    2: ['BAD_REQUEST', 'INVALID_RESOURCE', 'UNKNOWN_KIND', 'CONFIG', 'REQUEST_TOO_LARGE'],
    3: ['NOT_FOUND', 'NODE_NOT_FOUND', 'DB_NOT_FOUND', 'APP_NOT_FOUND'],
    4: [
      'ACCESS_DENIED',
      'BAD_CREDENTIALS',
      'RATE_LIMITED',
      'NOT_LOGGED_IN',
      'CERT_EXPIRED',
      'CERT_INVALID',
      'DEVICE_ATTESTATION_FAILED',
      'DEVICE_NOT_ENROLLED',
      'DEVICE_UNTRUSTED',
    ],
    5: ['NODE_UNREACHABLE', 'DB_UNREACHABLE', 'APP_UNREACHABLE', 'PROXY_UNREACHABLE', 'PROXY_UNTRUSTED'],
    6: ['ALREADY_EXISTS', 'CONFLICT'],
    7: ['TPM_UNAVAILABLE', 'TPM_PERMISSION_DENIED', 'TPM_BINDING', 'TPM_LOCKOUT', 'TPM_ERROR', 'TPM_NOT_SUPPORTED'],
  });
});

test('isErrorCode accepts the table keys only', () => {
  assert.ok(isErrorCode('NOT_FOUND'));
  for (const v of ['SHINY_NEW', 'toString', '__proto__', '', undefined, 3])
    assert.equal(isErrorCode(v), false, String(v));
});
