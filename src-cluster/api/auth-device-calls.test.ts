// The enroll token lifetime a request may ask for (`gatectl devices enroll --ttl`): 0 keeps the
// default, 1 s..7 days pass through, anything else is a clear BAD_REQUEST.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isGatehouseError } from '../../src-shared/errors.ts';
import { enrollTokenTtlMs, MAX_ENROLL_TOKEN_TTL_SECONDS } from './auth-device-calls.ts';

test('0 means the default lifetime; 1 s and 7 days are taken as given', () => {
  assert.equal(enrollTokenTtlMs(0n), undefined);
  assert.equal(enrollTokenTtlMs(1n), 1000);
  assert.equal(enrollTokenTtlMs(BigInt(MAX_ENROLL_TOKEN_TTL_SECONDS)), MAX_ENROLL_TOKEN_TTL_SECONDS * 1000);
});

test('a negative or too long lifetime is refused with the allowed range', () => {
  for (const ttl of [-1n, BigInt(MAX_ENROLL_TOKEN_TTL_SECONDS) + 1n]) {
    assert.throws(
      () => enrollTokenTtlMs(ttl),
      (e: unknown) => isGatehouseError(e) && e.code === ErrorCode.BAD_REQUEST && /1 to 604800 seconds/.test(e.message),
    );
  }
});
