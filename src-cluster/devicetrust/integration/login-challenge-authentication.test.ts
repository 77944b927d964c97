// Device authentication folded into the login, server half, against a real TPM (swtpm driven by
// tpm2-tools): a challenge issued with a login and answered with a quote re-issues that login's
// certificates with the device fields; a replayed, forged, expired, wrong-user or
// other-credential answer fails closed with the stream ceremony's codes, is audited, touches no
// device record, and spends the challenge either way.
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type {
  AnswerLoginDeviceChallengeRequestSchema,
  AuthenticateDeviceInit,
  EnrollDeviceRequest,
  EnrollDeviceResponseSchema,
} from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import type { AuditEventInput } from '../../audit/audit-events.ts';
import { identityFromClientCert } from '../../auth/x509.ts';
import { enrollDevice } from '../enrollment.ts';
import type { StoredDevice } from '../inventory.ts';
import {
  answerLoginDeviceChallenge,
  issueLoginChallenge,
  type LoginChallengeDeps,
} from '../login-challenge-authentication.ts';
import { LOGIN_CHALLENGE_TTL_MS, LoginDeviceChallenges } from '../login-challenges.ts';
import {
  activate,
  authInit,
  createDeviceAk,
  enrollAnswer,
  enrollInit,
  quote,
  startDeviceTpm,
  type DeviceAk,
  type DeviceTpm,
} from './ceremony-device.ts';
import {
  Ceremony,
  loginCerts,
  payloadOf,
  registerDevice,
  rejectsWith,
  startTestCluster,
  type LoginCerts,
  type TestCluster,
} from './ceremony-driver.ts';

let c: TestCluster;
let tpm: DeviceTpm;
let ak: DeviceAk;
let deviceId: string;
const TAG = 'SN-LOGIN-CHALLENGE';
/** The challenges' own clock, moved by the expiry test only. */
let clockOffsetMs = 0;
let challenges: LoginDeviceChallenges;
let audited: AuditEventInput[];
let deps: LoginChallengeDeps;

before(async () => {
  [c, tpm] = await Promise.all([startTestCluster(), startDeviceTpm()]);
  ak = createDeviceAk(tpm, 'ak-login');
  const { id, token } = await registerDevice(c, TAG);
  deviceId = id;
  const ceremony = new Ceremony<EnrollDeviceRequest, MessageInitShape<typeof EnrollDeviceResponseSchema>>((r) =>
    enrollDevice(c.deps, { user: 'alice', address: 'test' }, r),
  );
  const challenge = payloadOf(
    await ceremony.send(enrollInit(tpm, ak, { token, serial: TAG })).receive(),
    'tpmChallenge',
  );
  const secret = activate(tpm, ak, challenge.encryptedCredential ?? {});
  ceremony.send(enrollAnswer(secret, quote(tpm, ak, challenge.attestationNonce ?? new Uint8Array())));
  assert.equal(payloadOf(await ceremony.receive(), 'success').device?.enrollStatus, 'enrolled');
  challenges = new LoginDeviceChallenges({ now: () => new Date(Date.now() + clockOffsetMs) });
  audited = [];
  deps = { ...c.deps, loginChallenges: challenges, audit: { emit: async (e) => void audited.push(e) } };
});
after(async () => {
  await Promise.all([c?.close(), tpm?.close()]);
});

type AnswerRequest = MessageInitShape<typeof AnswerLoginDeviceChallengeRequestSchema>;

/** What Login does for a request naming `credentialId`: a challenge bound to this login, its answer prepared. */
function issueFor(login: LoginCerts, credentialId = ak.credentialId, d: LoginChallengeDeps = deps) {
  return issueLoginChallenge(d, { ...login, credentialId });
}

function initOf(login: LoginCerts, credentialId = ak.credentialId): AuthenticateDeviceInit {
  return authInit({ ...login, credentialId, serial: TAG }).payload.value as AuthenticateDeviceInit;
}

function answer(req: AnswerRequest) {
  return answerLoginDeviceChallenge(deps, { address: '127.0.0.1:50002' }, req as never);
}

async function unchanged(device: StoredDevice | undefined): Promise<void> {
  assert.deepEqual(await c.inventory.get(deviceId), device, 'the device record changed');
}

test("a login's challenge answered with the enrolled TPM's quote re-issues that login's certificates", async () => {
  const login = await loginCerts(c.cas, 'alice');
  const { nonce, pcrs } = issueFor(login);
  assert.deepEqual(pcrs, [0, 1, 2, 3, 4, 5, 6, 7]);
  audited.length = 0;
  const r = await answer({ init: initOf(login), attestationNonce: nonce, platformParameters: quote(tpm, ak, nonce) });
  const device = identityFromClientCert(r.userCertificates!.tlsCertificate!).device;
  assert.deepEqual(device, { deviceId, assetTag: TAG, credentialId: ak.credentialId });
  assert.equal(r.device?.id, deviceId);
  assert.deepEqual(
    audited.map((e) => [e.type, e.success, e.user]),
    [
      ['device.authenticate', true, 'alice'],
      ['cert.create', true, 'alice'],
    ],
  );
  assert.equal(challenges.size, 0, 'the challenge is spent');
});

test('an audit log that stores batches gets both success events in one call (one transaction)', async () => {
  const calls: string[][] = [];
  const plain = deps;
  deps = {
    ...deps,
    audit: {
      emit: async (e) => void calls.push([e.type]),
      emitMany: async (events: readonly AuditEventInput[]) => void calls.push(events.map((e) => e.type)),
    } as LoginChallengeDeps['audit'],
  };
  try {
    const login = await loginCerts(c.cas, 'alice');
    const { nonce } = issueFor(login);
    await answer({ init: initOf(login), attestationNonce: nonce, platformParameters: quote(tpm, ak, nonce) });
    assert.deepEqual(calls, [['device.authenticate', 'cert.create']]);
  } finally {
    deps = plain;
  }
});

test('a challenge answers once: the same answer again is refused (challenge_unknown), and audited', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const { nonce } = issueFor(login);
  const req = { init: initOf(login), attestationNonce: nonce, platformParameters: quote(tpm, ak, nonce) };
  await answer(req);
  const device = await c.inventory.get(deviceId);
  audited.length = 0;
  await rejectsWith(answer(req), ErrorCode.DEVICE_ATTESTATION_FAILED, 'challenge_unknown');
  assert.deepEqual(
    audited.map((e) => [e.type, e.success, e.fields?.['reason']]),
    [['device.authenticate', false, 'challenge_unknown']],
  );
  await unchanged(device);
});

test('a nonce the cluster never issued, or a quote over another nonce, is refused', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const device = await c.inventory.get(deviceId);
  const forged = randomBytes(32);
  await rejectsWith(
    answer({ init: initOf(login), attestationNonce: forged, platformParameters: quote(tpm, ak, forged) }),
    ErrorCode.DEVICE_ATTESTATION_FAILED,
    'challenge_unknown',
  );
  const { nonce } = issueFor(login);
  await rejectsWith(
    answer({ init: initOf(login), attestationNonce: nonce, platformParameters: quote(tpm, ak, forged) }),
    ErrorCode.DEVICE_ATTESTATION_FAILED,
    'nonce_mismatch',
  );
  await unchanged(device);
});

test('an answer after the challenge expired is refused (challenge_expired)', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const device = await c.inventory.get(deviceId);
  const { nonce } = issueFor(login);
  clockOffsetMs += LOGIN_CHALLENGE_TTL_MS;
  try {
    await rejectsWith(
      answer({ init: initOf(login), attestationNonce: nonce, platformParameters: quote(tpm, ak, nonce) }),
      ErrorCode.DEVICE_ATTESTATION_FAILED,
      'challenge_expired',
    );
  } finally {
    clockOffsetMs = 0;
  }
  await unchanged(device);
});

test("another user's (or another login's) certificates cannot answer a login's challenge, which is then spent", async () => {
  const alice = await loginCerts(c.cas, 'alice');
  const bob = await loginCerts(c.cas, 'bob');
  const device = await c.inventory.get(deviceId);
  const { nonce } = issueFor(alice);
  const platformParameters = quote(tpm, ak, nonce);
  audited.length = 0;
  await rejectsWith(
    answer({ init: initOf(bob), attestationNonce: nonce, platformParameters }),
    ErrorCode.CERT_INVALID,
    'not_connection_cert',
  );
  assert.deepEqual(
    audited.map((e) => [e.type, e.success, e.user]),
    [['device.authenticate', false, 'alice']],
  );
  // The failed answer spent it: alice's own certificates are too late now.
  await rejectsWith(
    answer({ init: initOf(alice), attestationNonce: nonce, platformParameters }),
    ErrorCode.DEVICE_ATTESTATION_FAILED,
    'challenge_unknown',
  );
  const aliceAgain = await loginCerts(c.cas, 'alice');
  const second = issueFor(alice);
  await rejectsWith(
    answer({
      init: initOf(aliceAgain),
      attestationNonce: second.nonce,
      platformParameters: quote(tpm, ak, second.nonce),
    }),
    ErrorCode.CERT_INVALID,
    'not_connection_cert',
  );
  await unchanged(device);
});

test('a challenge issued for one credential is refused for another (challenge_other_credential)', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const device = await c.inventory.get(deviceId);
  const { nonce } = issueFor(login, randomBytes(32).toString('hex'));
  await rejectsWith(
    answer({ init: initOf(login), attestationNonce: nonce, platformParameters: quote(tpm, ak, nonce) }),
    ErrorCode.DEVICE_ATTESTATION_FAILED,
    'challenge_other_credential',
  );
  await unchanged(device);
});

test('with the cluster mode off a login challenge is refused like the stream (device_trust_off)', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const device = await c.inventory.get(deviceId);
  const { nonce } = issueFor(login);
  await rejectsWith(
    answerLoginDeviceChallenge({ ...deps, clusterDeviceTrustMode: () => 'off' }, { address: '127.0.0.1:50002' }, {
      init: initOf(login),
      attestationNonce: nonce,
      platformParameters: quote(tpm, ak, nonce),
    } as never),
    ErrorCode.BAD_REQUEST,
    'device_trust_off',
  );
  await unchanged(device);
});

test('certificates signed ahead never leave when a lock is in force at the answer (checked then, as the stream does)', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const locked: LoginChallengeDeps = {
    ...deps,
    requireNoLock: async () => {
      throw new GatehouseError(ErrorCode.ACCESS_DENIED, 'device locked: laptop reported stolen', { reason: 'locked' });
    },
  };
  const { nonce } = issueFor(login, ak.credentialId, locked);
  audited.length = 0;
  await rejectsWith(
    answerLoginDeviceChallenge(locked, { address: '127.0.0.1:50002' }, {
      init: initOf(login),
      attestationNonce: nonce,
      platformParameters: quote(tpm, ak, nonce),
    } as never),
    ErrorCode.ACCESS_DENIED,
    'locked',
  );
  assert.deepEqual(
    audited.map((e) => [e.type, e.success]),
    [['device.authenticate', false]],
  );
});

test('the re-issued certificates keep the login identity and add the device fields', async () => {
  const login = await loginCerts(c.cas, 'alice');
  const { nonce } = issueFor(login);
  const r = await answer({ init: initOf(login), attestationNonce: nonce, platformParameters: quote(tpm, ak, nonce) });
  const issued = identityFromClientCert(r.userCertificates!.tlsCertificate!);
  const original = identityFromClientCert(login.certDer);
  assert.equal(issued.user, original.user);
  assert.deepEqual(issued.roles, original.roles);
  assert.deepEqual(issued.device, { deviceId, assetTag: TAG, credentialId: ak.credentialId });
});
