// Test-only: one alice@prod profile and one enrollment record for the device trust tests of the
// client core, the CLI and the app, so each test states only what differs.
import type { EnrollmentRecord } from '../device/ceremony/enrollments.ts';
import type { Profile } from '../core/profiles.ts';

export const TEST_PROXY = 'proxy.example.com:3080';
export const TEST_CREDENTIAL_ID = 'c'.repeat(64);

export function testProfile(overrides: Partial<Profile> = {}): Profile {
  return {
    proxy: TEST_PROXY,
    user: 'alice',
    cluster: 'prod',
    roles: ['access'],
    logins: ['alice'],
    validUntil: '2099-01-01T00:00:00.000Z',
    loggedInAt: '2026-11-26T06:00:00.000Z',
    sshHostCaKeys: [],
    tlsHostCaCerts: [],
    sshUserCaKeys: [],
    tlsUserCaCerts: [],
    ...overrides,
  };
}

export function testEnrollmentRecord(overrides: Partial<EnrollmentRecord> = {}): EnrollmentRecord {
  return {
    cluster: 'prod',
    proxy: TEST_PROXY,
    deviceId: 'dev-1',
    assetTag: 'SN1',
    osType: 'linux',
    credentialId: TEST_CREDENTIAL_ID,
    attestationType: 'ekcert',
    enrolledAt: '2026-11-26T06:00:00.000Z',
    ...overrides,
  };
}
