// The session as the renderer sees it: device trust state, requirement and the popover's device
// details from the profile and this device's enrollment record — display data only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sessionInfo } from './sessions.ts';
import { testEnrollmentRecord, testProfile } from '../test-support/test-device-fixtures.ts';

const now = new Date('2026-11-26T07:00:00Z');
const CRED = 'c'.repeat(64);
const profile = testProfile({
  sshHostCaKeys: ['ssh-ed25519 AAAA host-ca'],
  tlsHostCaCerts: ['-----BEGIN CERTIFICATE-----'],
  deviceTrustMode: 'required',
  deviceTrustRequired: true,
});
const record = testEnrollmentRecord();

test('trusted: the device from the certificates, attestation from the enrollment record, issue time', () => {
  const s = sessionInfo(
    {
      ...profile,
      device: {
        deviceId: 'dev-1',
        assetTag: 'SN1',
        credentialId: CRED,
        osType: 'linux',
        issuedAt: '2026-11-26T06:59:00.000Z',
      },
    },
    now,
    record,
  );
  assert.equal(s.deviceTrusted, true);
  assert.equal(s.deviceTrustState, 'trusted');
  assert.equal(s.deviceTrustMode, 'required');
  assert.equal(s.deviceTrustRequired, true);
  assert.deepEqual(s.device, {
    assetTag: 'SN1',
    credentialId: CRED,
    attestationType: 'ekcert',
    osType: 'linux',
    issuedAt: '2026-11-26T06:59:00.000Z',
  });
  assert.equal(s.deviceTrustIssue, undefined);
  // Nothing secret or verbatim crosses: no CA material, keys or certificates.
  assert.doesNotMatch(JSON.stringify(s), /BEGIN|ssh-ed25519|deviceId|dev-1/);
});

test('enrolled but device authentication failed: not trusted, the recorded issue, the enrolled device', () => {
  const s = sessionInfo(
    { ...profile, deviceTrustIssue: { code: 'TPM_UNAVAILABLE', message: 'no TPM', nextStep: 'fix it' } },
    now,
    record,
  );
  assert.equal(s.deviceTrustState, 'not-trusted');
  assert.deepEqual(s.deviceTrustIssue, { code: 'TPM_UNAVAILABLE', message: 'no TPM', nextStep: 'fix it' });
  assert.equal(s.device?.assetTag, 'SN1');
  assert.equal(s.device?.issuedAt, undefined);
});

test('not enrolled: no device; an old profile without the login fields reads as mode off, not required', () => {
  const { deviceTrustMode: _m, deviceTrustRequired: _r, ...old } = profile;
  const s = sessionInfo(old, now);
  assert.equal(s.deviceTrustState, 'not-enrolled');
  assert.equal(s.deviceTrustMode, 'off');
  assert.equal(s.deviceTrustRequired, false);
  assert.equal(s.device, undefined);
});
