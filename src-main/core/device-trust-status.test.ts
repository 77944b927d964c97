// Device trust status of a stored login: state from the certificates' device fields and the local
// enrollment record, the requirement lines only when required and not trusted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceTrustStatus, ENROLL_NEXT_STEP, requirementLines } from './device-trust-status.ts';
import { testEnrollmentRecord } from '../test-support/test-device-fixtures.ts';

const record = testEnrollmentRecord();
const device = { deviceId: 'dev-1', assetTag: 'SN1', credentialId: 'c'.repeat(64) };

test('device fields in the certificates: trusted, nothing to say even when required', () => {
  const s = deviceTrustStatus({ device, deviceTrustMode: 'required', deviceTrustRequired: true }, record);
  assert.deepEqual(s, { state: 'trusted', mode: 'required', required: true });
  assert.deepEqual(requirementLines(s), []);
});

test('no enrollment here and required: the requirement and the enroll step', () => {
  const s = deviceTrustStatus({ deviceTrustMode: 'required', deviceTrustRequired: true }, undefined);
  assert.equal(s.state, 'not-enrolled');
  assert.deepEqual(requirementLines(s), ['Full access requires a trusted device.', `Next step: ${ENROLL_NEXT_STEP}`]);
  assert.match(
    ENROLL_NEXT_STEP,
    /gate device enroll" \(it asks for the token\): this login becomes device-trusted at once/,
  );
});

test('not required: no requirement lines; an old profile without the fields reads as mode off', () => {
  const s = deviceTrustStatus({}, undefined);
  assert.deepEqual(s, { state: 'not-enrolled', mode: 'off', required: false, nextStep: ENROLL_NEXT_STEP });
  assert.deepEqual(requirementLines(s), []);
});

test('enrolled but device authentication failed: the recorded reason and its next step', () => {
  const s = deviceTrustStatus(
    {
      deviceTrustMode: 'required',
      deviceTrustRequired: true,
      deviceTrustIssue: { code: 'TPM_UNAVAILABLE', message: 'no TPM', nextStep: 'fix the TPM problem above' },
    },
    record,
  );
  assert.equal(s.state, 'not-trusted');
  assert.deepEqual(requirementLines(s), [
    'Full access requires a trusted device.',
    'Not trusted because: no TPM [TPM_UNAVAILABLE]',
    'Next step: fix the TPM problem above',
  ]);
});

test('enrolled after the login: log in again', () => {
  const s = deviceTrustStatus({ deviceTrustMode: 'required', deviceTrustRequired: true }, record);
  assert.equal(s.state, 'not-trusted');
  assert.equal(s.nextStep, 'run "gate login" again');
});
