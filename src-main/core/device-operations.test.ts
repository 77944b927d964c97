// GatehouseClient's device calls with a fake TPM agent and a fake cluster: enrollAndTrust's
// steps in order (token and auto-enroll), a step's failure named in details.step and journaled
// without the token, "This device" with and without a reachable cluster, and diagnostics that
// carry no key, token or certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { GetDeviceStatusResponseSchema, MyDeviceSchema } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../device/collect.ts';
import type { ClusterClient } from './cluster-client.ts';
import type { DeviceEnrollParams } from './device-calls.ts';
import { diagnosticsText } from './device-diagnostics.ts';
import { clusterDeviceStatusFrom, myDevicesFrom } from './device-status.ts';
import type { DeviceAgent } from './device-trust.ts';
import { GatehouseClient } from './gatehouse-client.ts';
import { generateClientKey } from './keys.ts';
import { TEST_PROXY, testProfile } from '../test-support/test-device-fixtures.ts';

const CRED = 'c'.repeat(64);
const TOKEN = 'tok-SECRET-1234567890abcdef';
const DATA = {
  collect_time: '2026-12-07T10:00:00Z',
  os_type: 'linux',
  os_id: 'debian',
  os_version: '12 (bookworm)',
  hostname: 'laptop-7',
  os_username: 'alice',
  serial_number: 'SN1',
  serial_source: 'dmi:product_serial',
} as CollectedDeviceData;
const CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

function setup(t: { after(fn: () => void): void }) {
  const home = mkdtempSync(join(tmpdir(), 'gh-devops-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const agent: DeviceAgent = {
    openTpm: async () => ({ close: async () => undefined }) as never,
    collect: () => DATA,
    probeTpm: async () => ({ state: 'present', tcti: 'swtpm:port=1', manufacturer: 'IBM', credentialId: CRED }),
  };
  const core = new GatehouseClient({
    home,
    deviceHome: join(home, 'device'),
    deviceAgent: agent,
    clock: () => new Date('2026-12-07T10:00:00Z'),
  });
  const profile = testProfile({ deviceTrustMode: 'required', deviceTrustRequired: true, tlsHostCaCerts: [CA_PEM] });
  core.profiles.save(profile, {
    key: generateClientKey('alice@gatehouse'),
    sshCertificate: 'ssh-ed25519-cert-v01@openssh.com AAAAfake alice',
    tlsCertificatePem: CA_PEM,
  });
  return { core, profile, home };
}

function useCluster(core: GatehouseClient, fake: Partial<Record<keyof ClusterClient, unknown>>): void {
  (core as unknown as { cluster: () => Promise<unknown> }).cluster = async () => ({ close() {}, ...fake });
}

const enrolled = async (_p: unknown, a: DeviceEnrollParams) => {
  a.onStep?.('create-ak');
  a.onStep?.('activate-credential');
  a.onStep?.('quote');
  return {
    device: {
      id: 'dev-9',
      assetTag: 'SN1',
      osType: 'linux',
      enrollStatus: 'enrolled',
      credentialId: CRED,
      attestationType: 'ekpub',
    },
    credentialId: CRED,
    timings: { totalMs: 1, tpmMs: 1, tpmCalls: {} },
  };
};

test('enrollDevice: token, every step in order, then the login is device-authenticated at once', async (t) => {
  const { core, profile } = setup(t);
  const trusted = { ...profile, device: { deviceId: 'dev-9', assetTag: 'SN1', credentialId: CRED } };
  useCluster(core, {
    enrollDevice: async (p: unknown, a: DeviceEnrollParams) => {
      assert.equal(a.token, TOKEN);
      return enrolled(p, a);
    },
    authenticateDevice: async () => ({ profile: trusted, timings: { totalMs: 1, tpmMs: 1, tpmCalls: {} } }),
  });
  const steps: string[] = [];
  const r = await core.enrollDevice({
    proxy: TEST_PROXY,
    token: ` ${TOKEN} `,
    onStep: (s, st) => void steps.push(`${s}:${st}`),
  });
  assert.deepEqual(steps, [
    'check-tpm:running',
    'check-tpm:done',
    'create-ak:running',
    'create-ak:done',
    'activate-credential:running',
    'activate-credential:done',
    'quote:running',
    'quote:done',
    'authenticate:running',
    'authenticate:done',
    'done:done',
  ]);
  assert.equal(r.deviceId, 'dev-9');
  assert.equal(r.credentialId, CRED);
  assert.deepEqual(r.profile.device, trusted.device);
  assert.equal(core.device.enrollmentFor(profile)?.deviceId, 'dev-9');
});

test('auto-enroll asks the cluster for the token; a refusal fails check-tpm, is journaled, keeps its reason', async (t) => {
  const { core } = setup(t);
  const asked: CollectedDeviceData[] = [];
  useCluster(core, {
    autoEnrollToken: async (_p: unknown, d: CollectedDeviceData) => {
      asked.push(d);
      throw new GatehouseError(ErrorCode.ACCESS_DENIED, 'this device (asset tag "SN1", linux) is not registered', {
        reason: 'not_registered',
      });
    },
  });
  const steps: string[] = [];
  await assert.rejects(
    core.enrollDevice({
      proxy: TEST_PROXY,
      auto: true,
      onStep: (s, st, e) => void steps.push(`${s}:${st}:${e?.code ?? ''}`),
    }),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === ErrorCode.ACCESS_DENIED &&
      e.details?.step === 'check-tpm' &&
      e.details?.reason === 'not_registered',
  );
  assert.equal(asked[0]?.serial_number, 'SN1');
  assert.deepEqual(steps, ['check-tpm:running:', 'check-tpm:failed:ACCESS_DENIED']);
  assert.deepEqual(
    core.journal.recent().map((e) => [e.code, e.step, e.cluster]),
    [['ACCESS_DENIED', 'check-tpm', 'prod']],
  );
});

test('a failing step is named in details.step; the token never reaches the error or the journal', async (t) => {
  const { core } = setup(t);
  useCluster(core, {
    enrollDevice: async (_p: unknown, a: DeviceEnrollParams) => {
      a.onStep?.('create-ak');
      a.onStep?.('activate-credential');
      throw new GatehouseError(ErrorCode.BAD_CREDENTIALS, `token ${TOKEN} was already used`, { reason: 'used' });
    },
  });
  await assert.rejects(
    core.enrollDevice({ proxy: TEST_PROXY, token: TOKEN }),
    (e: unknown) =>
      e instanceof GatehouseError && e.details?.step === 'activate-credential' && !e.message.includes(TOKEN),
  );
  assert.doesNotMatch(readFileSync(core.journal.path, 'utf8'), /SECRET/);
  await assert.rejects(core.enrollDevice({ proxy: TEST_PROXY, token: '  ' }), /the enroll token is empty/);
  await assert.rejects(core.enrollDevice({ proxy: TEST_PROXY, token: 'x', auto: true }), /not both/);
  await assert.rejects(
    core.enrollDevice({ proxy: 'elsewhere.example.com:3080', token: 'x' }),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.NOT_LOGGED_IN,
  );
});

test('deviceStatus: local facts, the cluster view and the session; a cluster failure becomes clusterError', async (t) => {
  const { core } = setup(t);
  useCluster(core, {
    deviceStatus: async (_p: unknown, d: CollectedDeviceData, cred: string) => {
      assert.equal(cred, CRED, "the probe's credential id is sent");
      return clusterDeviceStatusFrom(
        create(GetDeviceStatusResponseSchema, {
          registered: true,
          autoEnrollAvailable: true,
          deviceTrustMode: 'required',
        }),
        {
          cluster: 'prod',
          proxy: TEST_PROXY,
          assetTag: d.serial_number,
          osType: d.os_type,
        },
      );
    },
  });
  const r = await core.deviceStatus({ proxy: TEST_PROXY });
  assert.equal(r.assetTag, 'SN1');
  assert.equal(r.osName, 'debian 12 (bookworm)');
  assert.equal(r.tpm.manufacturer, 'IBM');
  assert.equal(r.tpmProbeCached, false);
  assert.equal(r.cluster?.autoEnrollAvailable, true);
  assert.equal(r.cluster?.adminCommand, 'gatectl devices add --asset-tag SN1 --os linux --enroll');
  assert.equal(r.session?.deviceTrusted, false);
  assert.equal(r.clusterError, undefined);
  assert.equal((await core.deviceStatus({ proxy: TEST_PROXY })).tpmProbeCached, true);

  useCluster(core, {
    deviceStatus: async () => {
      throw new GatehouseError(ErrorCode.PROXY_UNREACHABLE, 'cannot reach the proxy');
    },
  });
  const down = await core.deviceStatus({ proxy: TEST_PROXY, refresh: true });
  assert.equal(down.tpmProbeCached, false);
  assert.equal(down.clusterError?.code, ErrorCode.PROXY_UNREACHABLE);
  assert.equal(down.assetTag, 'SN1', 'the local half still shows');
  const noLogin = await core.deviceStatus({ proxy: 'other.example.com:3080' });
  assert.equal(noLogin.clusterError?.code, ErrorCode.NOT_LOGGED_IN);
});

test('diagnostics: every section, and no key, certificate or token anywhere in the JSON or the text', async (t) => {
  const { core } = setup(t);
  core.journal.record({
    code: ErrorCode.TPM_PERMISSION_DENIED,
    message: 'no access to /dev/tpmrm0',
    step: 'check-tpm',
  });
  useCluster(core, {
    deviceStatus: async () =>
      clusterDeviceStatusFrom(
        create(GetDeviceStatusResponseSchema, {
          registered: true,
          enrolled: true,
          deviceId: 'dev-9',
          credentialId: CRED,
          credentialMatches: true,
          enrolledUnix: 1_765_000_000n,
          lockMessage: 'stolen laptop',
          lockTarget: 'Device:dev-9',
          deviceTrustMode: 'required',
        }),
        { cluster: 'prod', proxy: TEST_PROXY, assetTag: 'SN1', osType: 'linux' },
      ),
  });
  const d = await core.deviceDiagnostics({ proxy: TEST_PROXY, client: 'desktop', version: '1.2.3' });
  assert.deepEqual(d.client, { name: 'desktop', version: '1.2.3' });
  assert.deepEqual(d.login, { cluster: 'prod', proxy: TEST_PROXY, user: 'alice' });
  assert.equal(d.clusterStatus?.lock?.message, 'stolen laptop');
  assert.equal(d.clusterStatus?.enrolledAt, '2025-12-06T05:46:40.000Z');
  assert.equal(d.session?.mode, 'required');
  assert.equal(d.session?.required, true);
  assert.equal(d.recentErrors[0]?.code, 'TPM_PERMISSION_DENIED');
  const json = JSON.stringify(d);
  const text = diagnosticsText(d);
  for (const out of [json, text]) {
    assert.doesNotMatch(out, /-----BEGIN|PRIVATE KEY|ssh-ed25519|cert-v01@openssh|SECRET/);
  }
  assert.deepEqual(JSON.parse(json), d, 'JSON-safe');
  for (const heading of [
    'Device',
    'TPM',
    'Local enrollment',
    'Cluster prod',
    'This session',
    'Recent device trust errors \\(1\\)',
  ]) {
    assert.match(text, new RegExp(`^${heading}`, 'm'));
  }
  assert.match(text, /Lock: +stolen laptop \(Device:dev-9\)/);
});

test('myDevicesFrom: newest seen first, this device marked by serial and OS', () => {
  const list = myDevicesFrom(
    [
      create(MyDeviceSchema, {
        id: 'a',
        assetTag: 'OLD',
        osType: 'linux',
        enrolled: true,
        lastSeenUnix: 1_700_000_000n,
      }),
      create(MyDeviceSchema, { id: 'b', assetTag: 'SN1', osType: 'linux', enrolled: false }),
      create(MyDeviceSchema, {
        id: 'c',
        assetTag: 'SN1',
        osType: 'windows',
        enrolled: true,
        lastSeenUnix: 1_765_000_000n,
      }),
    ],
    { serial: 'SN1', osType: 'linux' },
  );
  assert.deepEqual(
    list.map((d) => [d.id, d.thisDevice, d.lastSeen]),
    [
      ['c', false, '2025-12-06T05:46:40.000Z'],
      ['a', false, '2023-11-14T22:13:20.000Z'],
      ['b', true, undefined],
    ],
  );
});
