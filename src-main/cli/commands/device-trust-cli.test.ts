// What `gate status` and `gate ssh` add about device trust: the requirement and next step under
// the Device trust row, and the hint line after the node's "unauthorized device" refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { deviceTrustStatus } from '../../core/device-trust-status.ts';
import { withDeviceTrustHint } from './ssh.ts';
import { profileLines } from './status.ts';
import { testProfile } from '../../test-support/test-device-fixtures.ts';

const profile = testProfile({ deviceTrustMode: 'required', deviceTrustRequired: true });
const now = new Date('2026-11-26T07:00:00Z');

test('gate status: a required, untrusted login gets the requirement and the enroll step under its row', () => {
  const lines = profileLines(profile, now, true, true, deviceTrustStatus(profile, undefined));
  const at = lines.findIndex((l) => l.includes('Device trust:'));
  assert.equal(lines[at], '  Device trust: not device-trusted (required)');
  assert.equal(lines[at + 1], '                Full access requires a trusted device.');
  assert.match(
    lines[at + 2]!,
    /^ {16}Next step: ask your administrator for an enroll token, run "gate device enroll" \(it asks for the token\): this login becomes device-trusted at once$/,
  );
  assert.equal(lines.length, at + 3);
});

test('gate status: nothing extra when trusted or not required', () => {
  const trusted = { ...profile, device: { deviceId: 'd', assetTag: 'SN1', credentialId: 'c' } };
  assert.ok(
    !profileLines(trusted, now, true, true, deviceTrustStatus(trusted, undefined)).some((l) => /Full access/.test(l)),
  );
  const optional = { ...profile, deviceTrustRequired: false, deviceTrustMode: 'optional' };
  const lines = profileLines(optional, now, true, true, deviceTrustStatus(optional, undefined));
  assert.ok(!lines.some((l) => /Full access/.test(l)));
  assert.ok(lines.some((l) => l.endsWith('Device trust: not device-trusted')));
});

test('gate ssh: the unauthorized-device refusal keeps its message and gains the next step as a hint', () => {
  const refusal = new GatehouseError(
    ErrorCode.DEVICE_UNTRUSTED,
    'ssh: rejected: administratively prohibited (unauthorized device)',
    { node: 'web-1' },
  );
  const e = withDeviceTrustHint(refusal, deviceTrustStatus(profile, undefined)) as GatehouseError;
  assert.equal(e.message, refusal.message);
  assert.equal(e.code, ErrorCode.DEVICE_UNTRUSTED);
  assert.equal(e.details?.node, 'web-1');
  assert.match(
    String(e.details?.hint),
    /^Full access requires a trusted device\.\nNext step: .*gate device enroll" \(it asks for the token\)/,
  );
  // A trusted login refused anyway (say, a stale device record on the cluster) gets no enroll hint.
  const trusted = deviceTrustStatus(
    { ...profile, device: { deviceId: 'd', assetTag: 'SN1', credentialId: 'c' } },
    undefined,
  );
  assert.equal(withDeviceTrustHint(refusal, trusted), refusal);
  const other = new GatehouseError(ErrorCode.ACCESS_DENIED, 'ssh: rejected: administratively prohibited (x)');
  assert.equal(withDeviceTrustHint(other, deviceTrustStatus(profile, undefined)), other);
});
