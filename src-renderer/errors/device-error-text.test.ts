import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../src-shared/errors.ts';
import { lockOf } from './device-error-text.ts';
import { describeError } from './error-text.ts';

test('enroll token refusals say which: expired, used, unknown', () => {
  const expired = describeError({ code: ErrorCode.BAD_CREDENTIALS, message: 'x', details: { reason: 'expired' } });
  assert.equal(expired.message, 'This enroll token has expired.');
  assert.match(expired.nextStep, /new enroll token/);
  const used = describeError({ code: ErrorCode.BAD_CREDENTIALS, message: 'x', details: { reason: 'used' } });
  assert.equal(used.message, 'This enroll token was already used.');
  const unknown = describeError({ code: ErrorCode.BAD_CREDENTIALS, message: 'x', details: { reason: 'unknown' } });
  assert.match(unknown.message, /does not know this enroll token/);
  assert.match(unknown.nextStep, /whole token/);
  // A login's bad password keeps the login words.
  const login = describeError({ code: ErrorCode.BAD_CREDENTIALS, message: 'invalid user or password' });
  assert.equal(login.message, 'Wrong user name, password or one-time code.');
});

test('a token for another device names this asset tag in the next step', () => {
  const t = describeError({
    code: ErrorCode.ACCESS_DENIED,
    message: 'enroll token is for another device',
    details: { reason: 'asset_tag_mismatch', assetTag: 'PF3ABC' },
  });
  assert.equal(t.message, 'This enroll token was made for another device.');
  assert.equal(t.nextStep, 'Ask your administrator for a token for this device (asset tag PF3ABC).');
  assert.equal(t.denial, undefined, 'not an access decision on a resource');
});

test('auto-enroll refusals: off, not registered (with the admin command), already enrolled', () => {
  const off = describeError({
    code: ErrorCode.ACCESS_DENIED,
    message: 'auto-enroll is off',
    details: { reason: 'auto_enroll_off' },
  });
  assert.equal(off.message, 'Auto-enroll is off in this cluster.');
  assert.match(off.nextStep, /enroll token/);
  const msg =
    'this device (asset tag "T1", linux) is not registered in cluster "c"; ask your administrator to run: gatectl devices add --asset-tag T1 --os linux --enroll';
  const notReg = describeError({ code: ErrorCode.ACCESS_DENIED, message: msg, details: { reason: 'not_registered' } });
  assert.equal(notReg.message, 'This device is not registered in the cluster.');
  assert.match(notReg.detail!, /gatectl devices add --asset-tag T1 --os linux --enroll/);
  const already = describeError({
    code: ErrorCode.ACCESS_DENIED,
    message: 'x',
    details: { reason: 'already_enrolled' },
  });
  assert.equal(already.message, 'This device is already enrolled in the cluster.');
});

test('every TPM code has words and a next step; the probe fix wins when main sent one', () => {
  for (const code of Object.values(ErrorCode).filter((c) => c.startsWith('TPM_'))) {
    const t = describeError({ code, message: 'Esys_Startup: 0x000a000a' });
    assert.ok(t.message.length > 10 && t.nextStep.length > 10, code);
    assert.equal(t.detail, 'Esys_Startup: 0x000a000a', `${code}: the TSS detail is shown, small`);
    assert.doesNotMatch(t.message + t.nextStep, /\bat \w+ \(|Error:/, `${code}: no stack`);
  }
  const perm = describeError({ code: ErrorCode.TPM_PERMISSION_DENIED, message: 'EACCES' });
  assert.match(perm.nextStep, /sudo usermod -aG tss \$USER/);
  const withFix = describeError({
    code: ErrorCode.TPM_UNAVAILABLE,
    message: 'no tpm',
    details: { reason: '/dev/tpmrm0 does not exist', fix: 'Turn the TPM on in the firmware settings.' },
  });
  assert.equal(withFix.nextStep, 'Turn the TPM on in the firmware settings.');
  assert.equal(withFix.detail, '/dev/tpmrm0 does not exist');
});

test('attestation failure: the table words with the detail', () => {
  const t = describeError({ code: ErrorCode.DEVICE_ATTESTATION_FAILED, message: 'quote signature invalid' });
  assert.match(t.message, /could not prove/);
  assert.equal(t.detail, 'quote signature invalid');
});

test('a lock that cut a session: "Locked by your administrator: <message>" with its target', () => {
  const error = {
    code: ErrorCode.ACCESS_DENIED,
    message: 'session ended',
    details: { lock: { message: 'laptop reported stolen', target: 'Device:"6f1c"' } },
  };
  const t = describeError(error);
  assert.equal(t.message, 'Locked by your administrator: laptop reported stolen');
  assert.equal(t.detail, 'Lock target: Device:"6f1c"');
  assert.deepEqual(t.lock, { message: 'laptop reported stolen', target: 'Device:"6f1c"' });
  // Whatever code main used to end the session, the lock is what the person needs to know.
  assert.equal(describeError({ ...error, code: ErrorCode.INTERNAL }).lock?.target, 'Device:"6f1c"');
  assert.equal(lockOf({ code: ErrorCode.INTERNAL, message: '', details: { lock: 'nonsense' } }), undefined);
  assert.equal(
    describeError({ code: ErrorCode.ACCESS_DENIED, message: 'x', details: { lock: { target: 'User:"a"' } } }).message,
    'Locked by your administrator.',
  );
});

test('an untrusted-device denial points at the This device screen', () => {
  const t = describeError({
    code: ErrorCode.DEVICE_UNTRUSTED,
    message: 'ssh: rejected: administratively prohibited (unauthorized device)',
  });
  assert.equal(t.openThisDevice, true);
  assert.match(t.nextStep, /^Open This device/);
  assert.match(t.denial!.fix, /Open This device/);
});
