import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionInfo } from '../../src-main/ipc/contract.ts';
import { deviceTrustView, ENROLL_STEP, formatWhen } from './device-trust-view.ts';

const session = (over: Partial<SessionInfo> = {}): SessionInfo => ({
  user: 'alice',
  roles: ['access'],
  logins: ['alice'],
  validUntil: '2030-01-01T00:00:00Z',
  expired: false,
  deviceTrusted: false,
  deviceTrustState: 'not-enrolled',
  deviceTrustMode: 'required',
  deviceTrustRequired: true,
  ...over,
});

const CRED = 'ab'.repeat(32);

test('trusted: the device rows, when the fields were issued, and no requirement or next step', () => {
  const v = deviceTrustView(
    session({
      deviceTrusted: true,
      deviceAssetTag: 'TAG-1',
      deviceTrustState: 'trusted',
      device: { assetTag: 'TAG-1', credentialId: CRED, attestationType: 'ekcert', issuedAt: '2026-11-26T07:00:00Z' },
    }),
    'en-GB',
  );
  assert.equal(v.label, 'trusted');
  assert.deepEqual(
    v.rows.map((r) => [r.term, r.value]),
    [
      ['Asset tag', 'TAG-1'],
      ['Credential ID', CRED],
      ['Attestation', 'ekcert'],
      ['Device fields issued', formatWhen('2026-11-26T07:00:00Z', 'en-GB')],
      ['Cluster mode', 'required'],
    ],
  );
  assert.equal(v.requirement, undefined);
  assert.equal(v.nextStep, undefined);
});

test('not enrolled and required: the requirement and the enroll step (enroll in the app, or with gate then log out and in)', () => {
  const v = deviceTrustView(session());
  assert.equal(v.label, 'not enrolled');
  assert.equal(v.requirement, 'Full access requires a trusted device.');
  assert.equal(v.nextStep, ENROLL_STEP);
  assert.match(v.nextStep!, /gate device enroll" \(it asks for the token\)/);
  assert.match(v.nextStep!, /^Open This device/);
  assert.match(v.nextStep!, /log out and log in again/);
  assert.deepEqual(v.rows, [{ term: 'Cluster mode', value: 'required' }]);
});

test('not enrolled where nothing is required: no requirement line', () => {
  const v = deviceTrustView(session({ deviceTrustRequired: false, deviceTrustMode: 'optional' }));
  assert.equal(v.requirement, undefined);
  assert.equal(v.nextStep, ENROLL_STEP);
});

test('enrolled but not trusted: the recorded reason and its next step as a sentence, no issue time', () => {
  const v = deviceTrustView(
    session({
      deviceTrustState: 'not-trusted',
      device: { assetTag: 'TAG-1', credentialId: CRED, attestationType: 'ekpub', issuedAt: '2026-11-26T07:00:00Z' },
      deviceTrustIssue: {
        code: 'TPM_UNAVAILABLE',
        message: 'no TPM at device:/dev/tpmrm0',
        nextStep: 'fix the TPM problem above, then log in again',
      },
    }),
  );
  assert.equal(v.label, 'not trusted');
  assert.equal(v.reason, 'no TPM at device:/dev/tpmrm0');
  assert.equal(v.nextStep, 'Fix the TPM problem above, then log in again.');
  assert.ok(!v.rows.some((r) => r.term === 'Device fields issued'));
  assert.equal(v.requirement, 'Full access requires a trusted device.');
});

test('enrolled after this login: log out and in again', () => {
  const v = deviceTrustView(session({ deviceTrustState: 'not-trusted' }));
  assert.match(v.reason!, /without device authentication/);
  assert.match(v.nextStep!, /^Log out and log in again/);
});

test('formatWhen keeps text it cannot parse', () => {
  assert.equal(formatWhen('soon'), 'soon');
});

test('a lock on this device turns the indicator to locked, with the message; a user lock does not', () => {
  const lock = { message: 'Laptop reported stolen', target: 'Device:0b6c1f9e' };
  const v = deviceTrustView(session({ deviceTrustState: 'trusted' }), 'en-GB', lock);
  assert.equal(v.state, 'locked');
  assert.equal(v.label, 'locked');
  assert.equal(v.reason, 'Laptop reported stolen');
  assert.match(v.nextStep ?? '', /administrator/);
  const userLock = deviceTrustView(session({ deviceTrustState: 'trusted' }), 'en-GB', {
    message: 'x',
    target: 'User:alice',
  });
  assert.equal(userLock.state, 'trusted');
});
