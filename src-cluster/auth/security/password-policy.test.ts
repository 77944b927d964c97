// Finding 8 of issue 11 (password policy): at least 12 characters, none of the common leaked
// passwords (the maintained @zxcvbn-ts/language-common list, compared case-insensitively), and a
// message that says which rule refused it — on the real auth server's set-password paths.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dictionary } from '@zxcvbn-ts/language-common';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { checkPasswordPolicy, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from '../passwords.ts';
import { openAuthFixture, type AuthFixture } from './auth-fixture.ts';

const refusal = (re: RegExp, reason: string) => (e: unknown) => {
  assert.ok(e instanceof GatehouseError, String(e));
  assert.equal(e.code, ErrorCode.BAD_REQUEST);
  assert.match(e.message, re);
  assert.equal(e.details?.['reason'], reason);
  return true;
};
const TOO_SHORT = /^password too short: use at least 12 characters \(this one has \d+\)$/;
const TOO_COMMON =
  /^password too common: it is on a list of the most used leaked passwords, which attackers try first; choose another$/;

let fx: AuthFixture;
before(async () => {
  fx = await openAuthFixture();
  await fx.addUser('frank');
});
after(() => fx.close());

test('the limits are the documented ones', () => {
  assert.equal(MIN_PASSWORD_LENGTH, 12);
  assert.equal(MAX_PASSWORD_LENGTH, 1024);
});

test('short passwords are refused with the minimum named, counted in characters', () => {
  assert.throws(() => checkPasswordPolicy('elevenchars'), refusal(TOO_SHORT, 'password_too_short'));
  assert.throws(() => checkPasswordPolicy('😀'.repeat(11)), refusal(/has 11\)$/, 'password_too_short'));
  assert.doesNotThrow(() => checkPasswordPolicy('😀'.repeat(12)));
  assert.throws(
    () => checkPasswordPolicy('x'.repeat(1025)),
    refusal(/^password too long: use at most 1024/, 'password_too_long'),
  );
});

test('common passwords of 12+ characters are refused, whatever their case', () => {
  const common = dictionary['passwords-common'].filter((p) => p.length >= MIN_PASSWORD_LENGTH);
  assert.ok(common.length > 100, `the list has ${common.length} entries of 12+ characters`);
  for (const p of [common[0]!, common[common.length - 1]!, '123456789012', 'qwertyuiopasdfghjkl'.slice(0, 12)]) {
    if (!common.includes(p)) continue;
    assert.throws(() => checkPasswordPolicy(p), refusal(TOO_COMMON, 'password_common'), p);
    assert.throws(() => checkPasswordPolicy(p.toUpperCase()), refusal(TOO_COMMON, 'password_common'), p);
  }
  assert.doesNotThrow(() => checkPasswordPolicy('correct horse battery 9'));
});

test('the auth server applies the policy on both set-password paths and keeps the token for a better try', async () => {
  await assert.rejects(fx.auth.setPassword('frank', 'short pw'), refusal(TOO_SHORT, 'password_too_short'));
  const { token } = await fx.auth.createPasswordToken('frank');
  const common = dictionary['passwords-common'].find((p) => p.length >= MIN_PASSWORD_LENGTH)!;
  await assert.rejects(fx.auth.setPasswordWithToken(token, common), refusal(TOO_COMMON, 'password_common'));
  await assert.rejects(fx.auth.setPasswordWithToken(token, 'too short'), refusal(TOO_SHORT, 'password_too_short'));
  assert.equal(await fx.auth.getCredentials('frank'), undefined, 'no password was stored');
  const r = await fx.auth.setPasswordWithToken(token, 'a much better password 7');
  assert.equal(r.user, 'frank');
  assert.ok((await fx.auth.getCredentials('frank'))?.passwordHash);
});
