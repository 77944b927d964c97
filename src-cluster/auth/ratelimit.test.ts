import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailureLimiter } from './ratelimit.ts';
import { checkOtp, generateOtp, newOtpSecret, otpUri } from './otp.ts';

test('limiter blocks after maxFailures within the window and frees up after it', () => {
  let now = 1_000_000;
  const l = new FailureLimiter({ maxFailures: 3, windowMs: 60_000, now: () => now });
  for (let i = 0; i < 3; i++) {
    assert.equal(l.retryAfterMs('alice'), 0);
    l.recordFailure('alice');
  }
  assert.equal(l.retryAfterMs('alice'), 60_000);
  assert.equal(l.retryAfterMs('bob'), 0);
  now += 30_000;
  assert.equal(l.retryAfterMs('alice'), 30_000);
  now += 30_001;
  assert.equal(l.retryAfterMs('alice'), 0);
  l.recordFailure('alice');
  l.reset('alice');
  assert.equal(l.retryAfterMs('alice'), 0);
});

test('TOTP codes verify once, within one step of skew, and not for another secret', () => {
  const secret = newOtpSecret();
  const now = Date.UTC(2026, 10, 26, 12, 0, 10);
  const code = generateOtp(secret, now);
  const first = checkOtp(secret, code, undefined, now);
  assert.equal(first.ok, true);
  assert.equal(checkOtp(secret, code, first.step, now).ok, false, 'replay of a used code');
  assert.equal(checkOtp(secret, generateOtp(secret, now - 30_000), undefined, now).ok, true);
  assert.equal(checkOtp(secret, generateOtp(secret, now - 120_000), undefined, now).ok, false);
  assert.equal(checkOtp(newOtpSecret(), code, undefined, now).ok, false);
  assert.equal(checkOtp(secret, 'abcdef', undefined, now).ok, false);
  assert.match(otpUri(secret, 'alice', 'demo'), /^otpauth:\/\/totp\/.*alice\?.*secret=/);
});
