// GatehouseClient.login's device trust step as a whole: the cluster's mode `off` skips it, and a
// failed device authentication is recorded in the stored profile (so `gate status` and the app
// can say later why the session is not device-trusted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../device/collect.ts';
import type { ClusterClient } from './cluster-client.ts';
import type { DeviceAgent } from './device-trust.ts';
import { GatehouseClient } from './gatehouse-client.ts';
import { generateClientKey } from './keys.ts';
import { TEST_PROXY, testProfile } from '../test-support/test-device-fixtures.ts';

const PROXY = TEST_PROXY;
const base = testProfile();

function setup(t: { after(fn: () => void): void }) {
  const home = mkdtempSync(join(tmpdir(), 'gh-login-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const opened: string[] = [];
  const agent: DeviceAgent = {
    async openTpm() {
      opened.push('open');
      return { close: async () => void opened.push('close'), attestationKey: async () => ({}) } as never;
    },
    collect: () => ({ serial_number: 'SN1' }) as CollectedDeviceData,
  };
  const core = new GatehouseClient({
    home,
    deviceHome: join(home, 'device'),
    deviceAgent: agent,
    clock: () => new Date('2026-11-26T07:00:00Z'),
  });
  core.device.enrollments.save({
    cluster: 'prod',
    proxy: PROXY,
    deviceId: 'dev-1',
    assetTag: 'SN1',
    osType: 'linux',
    credentialId: 'c'.repeat(64),
    attestationType: 'ekcert',
    enrolledAt: '2026-11-26T06:00:00.000Z',
  });
  const cluster = (mode: string, authenticate: () => Promise<never>) =>
    ({
      proxy: { address: PROXY },
      async login() {
        const profile = { ...base, deviceTrustMode: mode, deviceTrustRequired: mode === 'required' };
        core.profiles.save(profile, { key: generateClientKey('t'), sshCertificate: 'x', tlsCertificatePem: 'y' });
        return profile;
      },
      authenticateDevice: authenticate,
    }) as unknown as ClusterClient;
  return { core, cluster, opened };
}

test('mode off: device authentication is skipped for an enrolled device', async (t) => {
  const { core, cluster } = setup(t);
  const r = await core.login(
    cluster('off', () => assert.fail('must not run')),
    { user: 'alice', password: 'pw' },
  );
  assert.equal(r.deviceTrust.state, 'off');
  assert.equal(core.profiles.load(PROXY, 'alice')?.deviceTrustIssue, undefined);
});

test('a failed device authentication is stored with the profile; the login stands', async (t) => {
  const { core, cluster } = setup(t);
  const r = await core.login(
    cluster('required', async () => {
      throw new GatehouseError(ErrorCode.DEVICE_NOT_ENROLLED, 'the device was unenrolled');
    }),
    { user: 'alice', password: 'pw' },
  );
  assert.equal(r.deviceTrust.state, 'failed');
  const stored = core.profiles.load(PROXY, 'alice');
  assert.equal(stored?.deviceTrustMode, 'required');
  assert.equal(stored?.deviceTrustRequired, true);
  assert.deepEqual(stored?.deviceTrustIssue, {
    code: 'DEVICE_NOT_ENROLLED',
    message: 'the device was unenrolled',
    nextStep:
      'ask your administrator for an enroll token, run "gate device enroll" (it asks for the token): this login becomes device-trusted at once',
  });
  assert.deepEqual(r.profile.deviceTrustIssue, stored?.deviceTrustIssue);
});
