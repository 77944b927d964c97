// Login's device trust step with a fake TPM agent and a fake cluster: only enrolled clusters
// touch the TPM, failures never fail the login but say why (code + next step), the TPM is
// always closed, and enrollment is recorded per cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../device/collect.ts';
import type { ClusterClient } from './cluster-client.ts';
import type { DeviceAuthParams, DeviceEnrollParams } from './device-calls.ts';
import { DeviceTrust, deviceTrustText, type DeviceAgent } from './device-trust.ts';
import type { Profile } from './profiles.ts';
import { silentLogger } from './types.ts';
import { testEnrollmentRecord, testProfile } from '../test-support/test-device-fixtures.ts';

const PROFILE = testProfile();
const DATA = { serial_number: 'SN1' } as CollectedDeviceData;
const CRED = 'c'.repeat(64);

function setup(t: { after(fn: () => void): void }, agentOver: Partial<DeviceAgent> = {}) {
  const home = mkdtempSync(join(tmpdir(), 'gh-devtrust-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const events: string[] = [];
  const agent: DeviceAgent = {
    async openTpm() {
      events.push('open');
      return { close: async () => void events.push('close') } as unknown as Awaited<ReturnType<DeviceAgent['openTpm']>>;
    },
    collect: () => DATA,
    ...agentOver,
  };
  const trust = new DeviceTrust({
    deviceHome: home,
    agent,
    clock: () => new Date('2026-11-26T07:00:00Z'),
    logger: silentLogger,
  });
  return { trust, events };
}

function fakeCluster(impl: {
  authenticateDevice?: (p: Profile, a: DeviceAuthParams) => Promise<unknown>;
  enrollDevice?: (p: Profile, a: DeviceEnrollParams) => Promise<unknown>;
}): ClusterClient {
  return impl as unknown as ClusterClient;
}

const record = testEnrollmentRecord();

test('no enrollment record for the cluster: the TPM is not opened and the login is returned as is', async (t) => {
  const { trust, events } = setup(t);
  const r = await trust.authenticate(
    fakeCluster({ authenticateDevice: () => assert.fail('must not be called') }),
    PROFILE,
  );
  assert.deepEqual(r.deviceTrust, { state: 'not-enrolled-here', cluster: 'prod' });
  assert.equal(r.profile, PROFILE);
  assert.deepEqual(events, []);
  assert.equal(deviceTrustText(r.deviceTrust), 'not device-trusted: this device is not enrolled in cluster "prod"');
});

test('enrolled: the credential of the record is expected and the device-trusted profile comes back', async (t) => {
  const { trust, events } = setup(t);
  trust.enrollments.save(record);
  let expected: string | undefined;
  const device = { deviceId: 'dev-1', assetTag: 'SN1', credentialId: CRED, osType: 'linux' };
  const r = await trust.authenticate(
    fakeCluster({
      async authenticateDevice(p, a) {
        expected = a.expectedCredentialId;
        assert.equal(a.deviceData, DATA);
        return { profile: { ...p, device }, timings: { totalMs: 5, tpmMs: 2, tpmCalls: {} } };
      },
    }),
    PROFILE,
  );
  assert.equal(expected, CRED);
  assert.equal(r.deviceTrust.state, 'trusted');
  assert.deepEqual(r.profile.device, device);
  assert.deepEqual(events, ['open', 'close']);
  assert.equal(deviceTrustText(r.deviceTrust), 'this session is device-trusted (device "SN1"/linux)');
});

test('a refused device authentication keeps the login and says why, with the next step', async (t) => {
  const { trust, events } = setup(t);
  trust.enrollments.save(record);
  const r = await trust.authenticate(
    fakeCluster({
      authenticateDevice: () =>
        Promise.reject(new GatehouseError(ErrorCode.DEVICE_NOT_ENROLLED, 'device dev-1 is not enrolled')),
    }),
    PROFILE,
  );
  assert.equal(r.profile, PROFILE);
  assert.ok(r.deviceTrust.state === 'failed');
  assert.equal(r.deviceTrust.code, ErrorCode.DEVICE_NOT_ENROLLED);
  assert.match(r.deviceTrust.nextStep, /gate device enroll" \(it asks for the token\)/);
  assert.equal(
    deviceTrustText(r.deviceTrust),
    'not device-trusted: device dev-1 is not enrolled [DEVICE_NOT_ENROLLED]',
  );
  assert.deepEqual(events, ['open', 'close'], 'the TPM is closed after a failure too');
});

test('a TPM that cannot be opened is a coded reason, not a failed login', async (t) => {
  const { trust } = setup(t, {
    openTpm: () =>
      Promise.reject(new GatehouseError(ErrorCode.TPM_UNAVAILABLE, 'cannot open the TPM at device:/dev/tpmrm0')),
  });
  trust.enrollments.save(record);
  const r = await trust.authenticate(fakeCluster({}), PROFILE);
  assert.ok(r.deviceTrust.state === 'failed');
  assert.equal(r.deviceTrust.code, ErrorCode.TPM_UNAVAILABLE);
  assert.match(r.deviceTrust.nextStep, /gate device keyget/);
});

test('enroll records the device under the cluster and its canonical proxy; the TPM is closed on failure', async (t) => {
  const { trust, events } = setup(t);
  const out = await trust.enroll(
    fakeCluster({
      async enrollDevice(_p, a) {
        assert.equal(a.token, 'tok');
        return {
          device: {
            id: 'dev-9',
            assetTag: 'SN1',
            osType: 'linux',
            enrollStatus: 'enrolled',
            credentialId: CRED,
            attestationType: 'ekcert',
          },
          credentialId: CRED,
          timings: { totalMs: 1, tpmMs: 1, tpmCalls: {} },
        };
      },
    }),
    { ...PROFILE, proxy: 'proxy.example.com' },
    { token: 'tok' },
  );
  assert.equal(out.record.proxy, 'proxy.example.com:3080');
  assert.equal(out.record.enrolledAt, '2026-11-26T07:00:00.000Z');
  assert.equal(trust.enrollmentFor(PROFILE)?.deviceId, 'dev-9');
  assert.deepEqual(events, ['open', 'close']);

  await assert.rejects(
    trust.enroll(
      fakeCluster({ enrollDevice: () => Promise.reject(new GatehouseError(ErrorCode.BAD_CREDENTIALS, 'spent')) }),
      PROFILE,
      { token: 't' },
    ),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.BAD_CREDENTIALS,
  );
  assert.deepEqual(events, ['open', 'close', 'open', 'close']);
  assert.equal(trust.enrollmentFor(PROFILE)?.deviceId, 'dev-9', 'a failed enrollment keeps the old record');
});

test('prepare opens the TPM and loads the AK ahead of the ceremony, which then uses that same TPM', async (t) => {
  const { trust, events } = setup(t, {
    async openTpm() {
      events.push('open');
      return {
        attestationKey: async () => void events.push('ak'),
        close: async () => void events.push('close'),
      } as unknown as Awaited<ReturnType<DeviceAgent['openTpm']>>;
    },
  });
  assert.equal(trust.prepare('proxy.example.com:3080'), undefined, 'nothing to prepare before enrolling');
  trust.enrollments.save(record);
  assert.equal(trust.prepare('other.example.com:3080'), undefined);
  const prepared = trust.prepare('proxy.example.com:3080');
  assert.ok(prepared);
  let usedTpm: unknown;
  const r = await trust.authenticate(
    fakeCluster({
      authenticateDevice: async (p, a) => {
        usedTpm = a.tpm;
        throw new GatehouseError(ErrorCode.DEVICE_NOT_ENROLLED, 'unenrolled');
      },
    }),
    PROFILE,
    prepared,
  );
  assert.equal(r.deviceTrust.state, 'failed');
  assert.equal(usedTpm, await prepared);
  assert.deepEqual(events, ['open', 'ak', 'close']);
});

test('a prepared TPM is closed when the login turns out to be for a cluster this device is not enrolled in', async (t) => {
  const { trust, events } = setup(t);
  trust.enrollments.save({ ...record, cluster: 'other' });
  const prepared = trust.prepare('proxy.example.com:3080');
  assert.ok(prepared);
  const r = await trust.authenticate(fakeCluster({}), PROFILE, prepared);
  assert.equal(r.deviceTrust.state, 'not-enrolled-here');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(events, ['open', 'close']);
});

test('cluster mode off: no device authentication even when enrolled, and a prepared TPM is closed', async (t) => {
  const { trust, events } = setup(t);
  trust.enrollments.save(record);
  const prepared = trust.prepare('proxy.example.com:3080');
  assert.ok(prepared);
  const r = await trust.authenticate(
    fakeCluster({ authenticateDevice: () => assert.fail('must not be called in mode off') }),
    { ...PROFILE, deviceTrustMode: 'off' },
    prepared,
  );
  assert.deepEqual(r.deviceTrust, { state: 'off', cluster: 'prod' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(events.includes('close'), `TPM closed: ${events.join(',')}`);
  assert.equal(deviceTrustText(r.deviceTrust), 'not device-trusted: cluster "prod" does not use device trust');
});
