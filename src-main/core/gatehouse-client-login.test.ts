// GatehouseClient.login's device trust step as a whole: the cluster's mode `off` skips it, a
// failed device authentication is recorded in the stored profile (so `gate status` and the app
// can say later why the session is not device-trusted), and an enrolled device names its
// credential in the login and answers the challenge folded into it instead of the stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../device/collect.ts';
import type { LoginDeviceChallenge } from '../device/ceremony/answer-login-challenge.ts';
import type { ClusterClient, LoginParams } from './cluster-client.ts';
import type { DeviceAuthOutcome, DeviceChallengeParams } from './device-calls.ts';
import type { Profile, ProfileCredentials } from './profiles.ts';
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
  const logins: LoginParams[] = [];
  const saved: string[] = [];
  const cluster = (
    mode: string,
    authenticate: () => Promise<never>,
    folded?: { challenge: LoginDeviceChallenge; answer: (p: DeviceChallengeParams) => Promise<DeviceAuthOutcome> },
  ) =>
    ({
      proxy: { address: PROXY },
      async loginWithDeviceChallenge(p: LoginParams) {
        logins.push(p);
        const profile = { ...base, deviceTrustMode: mode, deviceTrustRequired: mode === 'required' };
        const creds = { key: generateClientKey('t'), sshCertificate: 'x', tlsCertificatePem: 'y' };
        // As the real one: with a challenge the login is left unsaved for the trusted certificates.
        if (folded) return { profile, deviceChallenge: folded.challenge, unsaved: creds };
        core.profiles.save(profile, creds);
        return { profile };
      },
      saveLogin(profile: Profile, creds: ProfileCredentials) {
        saved.push(profile.user);
        core.profiles.save(profile, creds);
      },
      authenticateDevice: authenticate,
      answerDeviceChallenge: (_profile: Profile, p: DeviceChallengeParams) =>
        folded ? folded.answer(p) : assert.fail('no challenge was issued'),
    }) as unknown as ClusterClient;
  return { core, cluster, opened, logins, saved };
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

test('an enrolled device names its credential in the login and answers the folded challenge, not the stream', async (t) => {
  const { core, cluster, logins, opened, saved } = setup(t);
  const challenge = { nonce: Buffer.alloc(32, 7), pcrs: [0, 7], expiresAt: new Date('2026-11-26T07:00:30Z') };
  const answered: DeviceChallengeParams[] = [];
  const device = { deviceId: 'dev-1', assetTag: 'SN1', credentialId: 'c'.repeat(64), osType: 'linux' };
  const r = await core.login(
    cluster('required', () => assert.fail('the stream must not run'), {
      challenge,
      answer: async (p) => {
        answered.push(p);
        const profile = {
          ...base,
          deviceTrustMode: 'required',
          device: { ...device, issuedAt: '2026-11-26T07:00:00Z' },
        };
        return { profile, timings: { totalMs: 1, tpmMs: 1, tpmCalls: {} } } as unknown as DeviceAuthOutcome;
      },
    }),
    { user: 'alice', password: 'pw' },
  );
  assert.equal(logins[0]?.deviceCredentialId, 'c'.repeat(64));
  assert.equal(r.deviceTrust.state, 'trusted');
  assert.equal(answered.length, 1);
  assert.equal(answered[0]!.credentialId, 'c'.repeat(64));
  assert.deepEqual(answered[0]!.challenge, challenge);
  // Read while the login was in flight, handed to the ceremony.
  assert.equal(answered[0]!.deviceData.serial_number, 'SN1');
  assert.deepEqual(opened, ['open', 'close'], 'the prepared TPM is used and closed');
  assert.deepEqual(answered[0]!.credentials?.sshCertificate, 'x', 'the unsaved login is handed to the answer');
  assert.deepEqual(saved, [], 'a trusted login is stored by the answer alone');
});

test('a failed answer to the folded challenge stores the login as it is, with the issue', async (t) => {
  const { core, cluster, saved } = setup(t);
  const challenge = { nonce: Buffer.alloc(32, 7), pcrs: [0, 7], expiresAt: new Date('2026-11-26T07:00:30Z') };
  const r = await core.login(
    cluster('required', () => assert.fail('the stream must not run'), {
      challenge,
      answer: async () => {
        throw new GatehouseError(ErrorCode.DEVICE_ATTESTATION_FAILED, 'challenge expired', {
          reason: 'challenge_expired',
        });
      },
    }),
    { user: 'alice', password: 'pw' },
  );
  assert.equal(r.deviceTrust.state, 'failed');
  assert.deepEqual(saved, ['alice']);
  const stored = core.profiles.load(PROXY, 'alice');
  assert.equal(stored?.deviceTrustIssue?.code, 'DEVICE_ATTESTATION_FAILED');
});

test('a login that brings no challenge (an older cluster) falls back to the stream', async (t) => {
  const { core, cluster, logins } = setup(t);
  let streamed = 0;
  const r = await core.login(
    cluster('required', async () => {
      streamed++;
      throw new GatehouseError(ErrorCode.DEVICE_NOT_ENROLLED, 'the device was unenrolled');
    }),
    { user: 'alice', password: 'pw' },
  );
  assert.equal(logins[0]?.deviceCredentialId, 'c'.repeat(64));
  assert.equal(streamed, 1);
  assert.equal(r.deviceTrust.state, 'failed');
});
