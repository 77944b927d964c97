import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, isGatehouseError } from '../../src-shared/errors.ts';
import { LOGIN_CHALLENGE_TTL_MS, LoginDeviceChallenges, type LoginChallengeBinding } from './login-challenges.ts';

const binding = (user: string): LoginChallengeBinding => ({
  user,
  certDer: Buffer.from(`cert of ${user}`),
  credentialId: `cred-${user}`,
});

function refusedWith(reason: string) {
  return (e: unknown) => {
    assert.ok(isGatehouseError(e), String(e));
    assert.equal(e.code, ErrorCode.DEVICE_ATTESTATION_FAILED);
    assert.equal(e.details?.['reason'], reason);
    return true;
  };
}

test('a challenge is a fresh 32-byte nonce that gives back its binding once', () => {
  let now = 1_000_000;
  const store = new LoginDeviceChallenges({ now: () => new Date(now) });
  const a = store.issue(binding('alice'));
  const b = store.issue(binding('alice'));
  assert.equal(a.nonce.length, 32);
  assert.notDeepEqual(a.nonce, b.nonce);
  assert.deepEqual(a.pcrs, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(a.expiresAt.getTime(), now + LOGIN_CHALLENGE_TTL_MS);
  now += LOGIN_CHALLENGE_TTL_MS - 1;
  assert.deepEqual(store.take(a.nonce), binding('alice'));
  assert.throws(() => store.take(a.nonce), refusedWith('challenge_unknown'));
  assert.equal(store.size, 1);
});

test('an expired challenge is refused as expired, and spent', () => {
  let now = 0;
  const store = new LoginDeviceChallenges({ now: () => new Date(now), ttlMs: 1000 });
  const c = store.issue(binding('bob'));
  now = 1000;
  assert.throws(() => store.take(c.nonce), refusedWith('challenge_expired'));
  assert.throws(() => store.take(c.nonce), refusedWith('challenge_unknown'));
});

test('expired challenges are dropped when new ones are issued; past the maximum the oldest goes first', () => {
  let now = 0;
  const store = new LoginDeviceChallenges({ now: () => new Date(now), ttlMs: 1000, max: 3 });
  store.issue(binding('old'));
  now = 1000;
  const first = store.issue(binding('a'));
  assert.equal(store.size, 1, 'the expired one was dropped');
  const second = store.issue(binding('b'));
  store.issue(binding('c'));
  store.issue(binding('d'));
  assert.equal(store.size, 3);
  assert.throws(() => store.take(first.nonce), refusedWith('challenge_unknown'));
  assert.equal(store.take(second.nonce).user, 'b');
});

test('a store without a positive lifetime or maximum is refused', () => {
  assert.throws(() => new LoginDeviceChallenges({ ttlMs: 0 }), RangeError);
  assert.throws(() => new LoginDeviceChallenges({ max: 0 }), RangeError);
});
