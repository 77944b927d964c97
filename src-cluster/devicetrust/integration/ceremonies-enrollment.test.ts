// The enrollment ceremony's server half against a real TPM (swtpm) driven by tpm2-tools: each
// attestation type it grants, and each way a client can lie, refused with its own code and reason,
// with nothing stored and the enroll token spent all the same.
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src-shared/errors.ts';
import { tpmtPublicBytes } from '../../../src-shared/device-credential.ts';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  EnrollDeviceRequest,
  EnrollDeviceResponseSchema,
} from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { enrollDevice } from '../enrollment.ts';
import {
  activate,
  createDeviceAk,
  enrollAnswer,
  enrollInit,
  flip,
  quote,
  startDeviceTpm,
  type DeviceAk,
  type DeviceTpm,
  type EnrollInitOptions,
} from './ceremony-device.ts';
import {
  assertNothingStored,
  Ceremony,
  payloadOf,
  registerDevice,
  rejectsWith,
  startTestCluster,
  type TestCluster,
} from './ceremony-driver.ts';

const caller = { user: 'alice', address: '127.0.0.1:50000' };
let c: TestCluster;
let tpmA: DeviceTpm;
/** A second, unrelated TPM (its own EK and manufacturer CA). */
let tpmB: DeviceTpm;
/** An AK on tpmA that no test enrolls, for the refusals. */
let spare: DeviceAk;

before(async () => {
  [c, tpmA, tpmB] = await Promise.all([startTestCluster(), startDeviceTpm(), startDeviceTpm()]);
  spare = createDeviceAk(tpmA, 'spare');
});
after(async () => {
  await Promise.all([c?.close(), tpmA?.close(), tpmB?.close()]);
});

type EnrollResponse = MessageInitShape<typeof EnrollDeviceResponseSchema>;

function start(): Ceremony<EnrollDeviceRequest, EnrollResponse> {
  return new Ceremony((requests) => enrollDevice(c.deps, caller, requests));
}

/** Sends init and returns the challenge. */
async function challenged(d: DeviceTpm, ak: DeviceAk, o: EnrollInitOptions) {
  const ceremony = start().send(enrollInit(d, ak, o));
  const challenge = payloadOf(await ceremony.receive(), 'tpmChallenge');
  return {
    ceremony,
    challenge: {
      encryptedCredential: challenge.encryptedCredential ?? {},
      attestationNonce: challenge.attestationNonce ?? new Uint8Array(),
      pcrs: challenge.pcrs ?? [],
    },
  };
}

/** A whole honest enrollment; returns the Device message of the success. */
async function enroll(d: DeviceTpm, ak: DeviceAk, o: EnrollInitOptions) {
  const { ceremony, challenge } = await challenged(d, ak, o);
  assert.deepEqual(challenge.pcrs, [0, 1, 2, 3, 4, 5, 6, 7]);
  assert.equal(challenge.attestationNonce.length, 32);
  const secret = activate(d, ak, challenge.encryptedCredential);
  ceremony.send(enrollAnswer(secret, quote(d, ak, challenge.attestationNonce, challenge.pcrs)));
  const success = payloadOf(await ceremony.receive(), 'success');
  await ceremony.end();
  return success.device ?? {};
}

async function registered(tag: string) {
  const r = await registerDevice(c, tag);
  return { ...r, before: await c.inventory.get(r.id) };
}

async function assertEnrolled(id: string, ak: DeviceAk, type: string, serial: string) {
  const stored = await c.inventory.get(id);
  assert.equal(stored.spec.enroll_status, 'enrolled');
  assert.equal(stored.spec.credential?.id, ak.credentialId);
  assert.equal(stored.spec.credential?.attestation_type, type);
  assert.deepEqual(Buffer.from(stored.spec.credential!.public_key, 'base64'), tpmtPublicBytes(ak.pub));
  assert.equal(stored.spec.owner, caller.user);
  assert.deepEqual(
    stored.spec.collected_data.map((s) => [s.os_type, s.serial_number, s.hostname]),
    [['linux', serial, 'ceremony-test']],
  );
  return stored;
}

test('an EK certificate from an allowed CA enrolls as ekcert_trusted', async () => {
  c.ekCas.splice(0, Infinity, tpmA.tpm.ekCaCertPem);
  const ak = createDeviceAk(tpmA, 'ak-trusted');
  const { id, token } = await registerDevice(c, 'SN-TRUSTED');
  const device = await enroll(tpmA, ak, { token, serial: 'SN-TRUSTED' });
  assert.deepEqual(
    [device.id, device.assetTag, device.enrollStatus, device.credentialId, device.attestationType],
    [id, 'SN-TRUSTED', 'enrolled', ak.credentialId, 'ekcert_trusted'],
  );
  const stored = await assertEnrolled(id, ak, 'ekcert_trusted', 'SN-TRUSTED');
  assert.match(stored.spec.credential?.ek_cert_serial ?? '', /^[0-9a-f]+$/);
  await assertNothingStored(c, stored, token);
  assert.ok(c.log.lines.some((l) => l.includes('device enrolled') && l.includes(ak.credentialId)));

  // The same AK cannot be enrolled again as another device.
  const other = await registered('SN-TRUSTED-2');
  await rejectsWith(
    start()
      .send(enrollInit(tpmA, ak, { token: other.token, serial: 'SN-TRUSTED-2' }))
      .receive(),
    ErrorCode.ALREADY_EXISTS,
    undefined,
    /already enrolled as device "SN-TRUSTED"\/linux/,
  );
  await assertNothingStored(c, other.before, other.token);
});

test('an EK certificate without a CA list enrolls as ekcert; the EK public key alone as ekpub', async () => {
  c.ekCas.splice(0);
  const akCert = createDeviceAk(tpmB, 'ak-ekcert');
  const a = await registerDevice(c, 'SN-EKCERT');
  assert.equal((await enroll(tpmB, akCert, { token: a.token, serial: 'SN-EKCERT' })).attestationType, 'ekcert');
  assert.match((await assertEnrolled(a.id, akCert, 'ekcert', 'SN-EKCERT')).spec.credential?.ek_cert_serial ?? '', /./);

  const akPub = createDeviceAk(tpmB, 'ak-ekpub');
  const b = await registerDevice(c, 'SN-EKPUB');
  const device = await enroll(tpmB, akPub, { token: b.token, serial: 'SN-EKPUB', ekCert: false });
  assert.equal(device.attestationType, 'ekpub');
  assert.equal((await assertEnrolled(b.id, akPub, 'ekpub', 'SN-EKPUB')).spec.credential?.ek_cert_serial, undefined);
});

test("a quote over an earlier ceremony's nonce is refused (nonce_mismatch)", async () => {
  c.ekCas.splice(0);
  const first = await registered('SN-REPLAY');
  const old = await challenged(tpmA, spare, { token: first.token, serial: 'SN-REPLAY' });
  const oldQuote = quote(tpmA, spare, old.challenge.attestationNonce);
  await old.ceremony.abandon();
  const { token } = await c.inventory.createEnrollToken(first.id);

  const { ceremony, challenge } = await challenged(tpmA, spare, { token, serial: 'SN-REPLAY' });
  assert.notDeepEqual(challenge.attestationNonce, old.challenge.attestationNonce);
  const secret = activate(tpmA, spare, challenge.encryptedCredential);
  ceremony.send(enrollAnswer(secret, oldQuote));
  await rejectsWith(ceremony.receive(), ErrorCode.DEVICE_ATTESTATION_FAILED, 'nonce_mismatch');
  await assertNothingStored(c, first.before, token);
  await assertNothingStored(c, first.before, first.token);
});

test('a signing key without `restricted` is refused as AK, though the TPM certified its creation', async () => {
  const loose = createDeviceAk(tpmA, 'unrestricted', { restricted: false });
  const r = await registered('SN-LOOSE');
  await assert.rejects(
    start()
      .send(enrollInit(tpmA, loose, { token: r.token, serial: 'SN-LOOSE' }))
      .receive(),
    (e: { code?: string; details?: Record<string, unknown>; message?: string }) => {
      assert.equal(e.code, ErrorCode.DEVICE_ATTESTATION_FAILED, e.message);
      assert.equal(e.details?.['reason'], 'ak_properties', e.message);
      assert.deepEqual(e.details?.['problems'], ['not_restricted']);
      assert.match(e.message ?? '', /not restricted/);
      return true;
    },
  );
  await assertNothingStored(c, r.before, r.token);
});

test("an AK in another TPM claiming this TPM's EK cannot activate the credential; a guess is wrong_secret", async () => {
  c.ekCas.splice(0, Infinity, tpmA.tpm.ekCaCertPem);
  const foreign = createDeviceAk(tpmB, 'foreign');
  const r = await registered('SN-FOREIGN');
  // tpmA's genuine EK and trusted certificate, but the AK (and its creation evidence) are tpmB's.
  const { ceremony, challenge } = await challenged(tpmA, foreign, {
    token: r.token,
    serial: 'SN-FOREIGN',
    ekPublic: tpmA.ek.pub,
  });
  // tpmB cannot: the seed is encrypted to tpmA's EK (tpmA, for its part, cannot load tpmB's AK).
  // (libtpms answers the undecryptable seed with TPM_RC_FAILURE 0x101.)
  assert.throws(() => activate(tpmB, foreign, challenge.encryptedCredential), /Esys_ActivateCredential\(0x/);
  ceremony.send(enrollAnswer(randomBytes(32), quote(tpmB, foreign, challenge.attestationNonce)));
  await rejectsWith(ceremony.receive(), ErrorCode.DEVICE_ATTESTATION_FAILED, 'wrong_secret', /did not recover/);
  await assertNothingStored(c, r.before, r.token);
});

test('a tampered quote fails its signature check (bad_signature)', async () => {
  c.ekCas.splice(0);
  for (const part of ['quote', 'signature'] as const) {
    const r = await registered(`SN-TAMPER-${part}`);
    const { ceremony, challenge } = await challenged(tpmA, spare, { token: r.token, serial: `SN-TAMPER-${part}` });
    const secret = activate(tpmA, spare, challenge.encryptedCredential);
    const platform = quote(tpmA, spare, challenge.attestationNonce);
    // The last byte of the attestation (inside the PCR digest), or of the RSA signature.
    const flipped = part === 'quote' ? flip(platform.quote.quote, -1) : flip(platform.quote.signature, -1);
    ceremony.send(enrollAnswer(secret, { ...platform, quote: { ...platform.quote, [part]: flipped } }));
    await rejectsWith(ceremony.receive(), ErrorCode.DEVICE_ATTESTATION_FAILED, 'bad_signature');
    await assertNothingStored(c, r.before, r.token);
  }
});

test('a wrong secret is refused (wrong_secret) even with a good quote', async () => {
  c.ekCas.splice(0);
  const r = await registered('SN-WRONG-SECRET');
  const { ceremony, challenge } = await challenged(tpmA, spare, { token: r.token, serial: 'SN-WRONG-SECRET' });
  const secret = activate(tpmA, spare, challenge.encryptedCredential);
  ceremony.send(enrollAnswer(flip(secret, 0), quote(tpmA, spare, challenge.attestationNonce)));
  await rejectsWith(ceremony.receive(), ErrorCode.DEVICE_ATTESTATION_FAILED, 'wrong_secret');
  await assertNothingStored(c, r.before, r.token);
});

test('with a CA list, an EK certificate from another CA, or none, is refused (untrusted_ek_cert)', async () => {
  // tpmB's manufacturer CA is unrelated to tpmA's EK certificate.
  c.ekCas.splice(0, Infinity, tpmB.tpm.ekCaCertPem, tpmB.tpm.rootCaCertPem);
  for (const ekCert of [true, false]) {
    const r = await registered(`SN-UNTRUSTED-${ekCert}`);
    await rejectsWith(
      start()
        .send(enrollInit(tpmA, spare, { token: r.token, serial: `SN-UNTRUSTED-${ekCert}`, ekCert }))
        .receive(),
      ErrorCode.DEVICE_ATTESTATION_FAILED,
      'untrusted_ek_cert',
    );
    await assertNothingStored(c, r.before, r.token);
  }
  c.ekCas.splice(0);
});

test('an unknown, an expired and an already used token are each refused with their reason', async () => {
  const r = await registered('SN-TOKENS');
  await rejectsWith(
    start()
      .send(enrollInit(tpmA, spare, { token: 'not-a-token', serial: 'SN-TOKENS' }))
      .receive(),
    ErrorCode.BAD_CREDENTIALS,
    'unknown',
    /unknown or expired enroll token/,
  );
  await assertNothingStored(c, r.before);
  // The device's real token was not touched by the failed attempt.
  assert.equal(await c.inventory.spendEnrollToken(r.token), r.id);
  await rejectsWith(
    start()
      .send(enrollInit(tpmA, spare, { token: r.token, serial: 'SN-TOKENS' }))
      .receive(),
    ErrorCode.BAD_CREDENTIALS,
    'used',
    /already used/,
  );
  await assertNothingStored(c, r.before);

  const { token } = await c.inventory.createEnrollToken(r.id, 60_000);
  c.advance(2 * 60_000);
  try {
    await rejectsWith(
      start()
        .send(enrollInit(tpmA, spare, { token, serial: 'SN-TOKENS' }))
        .receive(),
      ErrorCode.BAD_CREDENTIALS,
      'expired',
      /expired at/,
    );
  } finally {
    c.advance(-2 * 60_000);
  }
  await assertNothingStored(c, r.before, token);
});

test('a device whose serial is not its asset tag is refused (asset_tag_mismatch)', async () => {
  const r = await registered('SN-TAG');
  await rejectsWith(
    start()
      .send(enrollInit(tpmA, spare, { token: r.token, serial: 'SN-OTHER' }))
      .receive(),
    ErrorCode.ACCESS_DENIED,
    'asset_tag_mismatch',
    /reports serial "SN-OTHER"/,
  );
  await assertNothingStored(c, r.before, r.token);
});

test('a credential id that is not the hash of the AK is refused (credential_mismatch)', async () => {
  const r = await registered('SN-CREDID');
  const other = createDeviceAk(tpmB, 'other-id');
  await rejectsWith(
    start()
      .send(enrollInit(tpmA, spare, { token: r.token, serial: 'SN-CREDID', credentialId: other.credentialId }))
      .receive(),
    ErrorCode.DEVICE_ATTESTATION_FAILED,
    'credential_mismatch',
    /is not the hash of this attestation key/,
  );
  await assertNothingStored(c, r.before, r.token);
});
