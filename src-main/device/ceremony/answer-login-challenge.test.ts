// The client half of the login's device challenge with a fake TPM and a fake API: what the one
// call carries (the login's certificates, the credential, the quote over exactly the nonce the
// login brought), and what it refuses before asking the cluster (an AK that is not the enrolled
// one, a broken challenge, a success without certificates).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { AnswerLoginDeviceChallengeRequest } from '../../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ErrorCode, isGatehouseError } from '../../../src-shared/errors.ts';
import type { CollectedDeviceData } from '../collect.ts';
import { answerLoginChallenge, type AnswerChallengeApi } from './answer-login-challenge.ts';
import type { CeremonyTpm } from './stream-steps.ts';

const AK_TPMT = Buffer.from('0001000b00050072000000100014000b0800000000000100' + 'cd'.repeat(256), 'hex');
const AK_TPM2B = Buffer.concat([Buffer.from([AK_TPMT.length >> 8, AK_TPMT.length & 0xff]), AK_TPMT]);
const CRED_ID = createHash('sha256').update(AK_TPMT).digest('hex');
const DATA = { os_type: 'linux', serial_number: 'SN1', collect_time: '2026-12-07T12:00:00Z' } as CollectedDeviceData;
const CERTS = { sshCertificate: 'ssh-cert-line', tlsCertificatePem: 'tls-pem' };
const NONCE = Buffer.alloc(32, 9);

function fakeTpm(calls: string[]): CeremonyTpm {
  const call = <T>(name: string, v: T) => (calls.push(name), Promise.resolve(v));
  return {
    ekCertificate: () => call('ekCertificate', null),
    ekPublic: () => call('ekPublic', Buffer.alloc(0)),
    attestationKey: () => call('attestationKey', { public: AK_TPM2B } as never),
    activateCredential: () => call('activateCredential', Buffer.alloc(0)),
    quote: (nonce, pcrs) =>
      call('quote', { attest: Buffer.concat([Buffer.from('attest:'), nonce]), signature: Buffer.from(pcrs.join(',')) }),
    readPcrs: (pcrs) => call('readPcrs', new Map(pcrs.map((p) => [p, Buffer.alloc(32, p)]))),
  };
}

function fakeApi(sent: AnswerLoginDeviceChallengeRequest[], certs = true): AnswerChallengeApi {
  return {
    answerLoginDeviceChallenge: async (req) => {
      sent.push(req as AnswerLoginDeviceChallengeRequest);
      return {
        userCertificates: certs ? { sshCertificate: 'ssh-trusted', tlsCertificate: 'tls-trusted' } : undefined,
        device: { id: 'dev-1', assetTag: 'SN1', osType: 'linux', enrollStatus: 'enrolled', credentialId: CRED_ID },
      } as never;
    },
  };
}

const challenge = (over: Partial<{ nonce: Uint8Array; pcrs: number[] }> = {}) => ({
  nonce: NONCE,
  pcrs: [0, 7],
  expiresAt: new Date('2026-12-07T12:00:30Z'),
  ...over,
});

test('PCR values read during the login are sent when the quote covers them: only the quote is left', async () => {
  const early = new Map([0, 7].map((p) => [p, Buffer.alloc(32, 0x40 + p)]));
  const digest = createHash('sha256')
    .update(Buffer.concat([early.get(0)!, early.get(7)!]))
    .digest();
  const covering = (calls: string[], tail: Buffer): CeremonyTpm => ({
    ...fakeTpm(calls),
    quote: () => (
      calls.push('quote'),
      Promise.resolve({ attest: Buffer.concat([Buffer.from('a\x00\x20'), tail]), signature: Buffer.alloc(1) })
    ),
  });
  for (const [tail, expected] of [
    [digest, ['attestationKey', 'quote']],
    [Buffer.alloc(32), ['attestationKey', 'quote', 'readPcrs']], // the quote covers other values: read again
  ] as const) {
    const sent: AnswerLoginDeviceChallengeRequest[] = [];
    const calls: string[] = [];
    await answerLoginChallenge({
      api: fakeApi(sent),
      tpm: covering(calls, tail),
      deviceData: DATA,
      certificates: CERTS,
      challenge: challenge(),
      expectedCredentialId: CRED_ID,
      pcrsReadEarlier: early,
    });
    assert.deepEqual(calls, expected);
    const sentValues = sent[0]!.platformParameters!.pcrs.map((p) => Buffer.from(p.value));
    const want = expected.length === 2 ? [early.get(0)!, early.get(7)!] : [Buffer.alloc(32, 0), Buffer.alloc(32, 7)];
    assert.deepEqual(sentValues, want);
  }
});

test('one call carries the login certificates, the credential and the quote over the login nonce', async () => {
  const sent: AnswerLoginDeviceChallengeRequest[] = [];
  const calls: string[] = [];
  const r = await answerLoginChallenge({
    api: fakeApi(sent),
    tpm: fakeTpm(calls),
    deviceData: DATA,
    certificates: CERTS,
    challenge: challenge(),
    expectedCredentialId: CRED_ID,
  });
  assert.equal(sent.length, 1);
  const req = sent[0]!;
  assert.deepEqual(Buffer.from(req.attestationNonce), NONCE);
  assert.equal(req.init?.credentialId, CRED_ID);
  assert.equal(req.init?.userCertificates?.sshCertificate, 'ssh-cert-line');
  assert.equal(req.init?.userCertificates?.tlsCertificate, 'tls-pem');
  assert.equal(req.init?.deviceData?.serialNumber, 'SN1');
  assert.deepEqual(Buffer.from(req.platformParameters!.quote!.quote), Buffer.concat([Buffer.from('attest:'), NONCE]));
  assert.deepEqual(
    req.platformParameters!.pcrs.map((p) => p.index),
    [0, 7],
  );
  assert.deepEqual(calls, ['attestationKey', 'quote', 'readPcrs']);
  assert.deepEqual(r.certificates, { sshCertificate: 'ssh-trusted', tlsCertificatePem: 'tls-trusted' });
  assert.equal(r.device.id, 'dev-1');
  assert.equal(r.credentialId, CRED_ID);
});

test('an AK that is not the enrolled one fails as DEVICE_NOT_ENROLLED without a quote or a call', async () => {
  const sent: AnswerLoginDeviceChallengeRequest[] = [];
  const calls: string[] = [];
  await assert.rejects(
    answerLoginChallenge({
      api: fakeApi(sent),
      tpm: fakeTpm(calls),
      deviceData: DATA,
      certificates: CERTS,
      challenge: challenge(),
      expectedCredentialId: 'f'.repeat(64),
    }),
    (e: unknown) =>
      isGatehouseError(e) && e.code === ErrorCode.DEVICE_NOT_ENROLLED && e.details?.['reason'] === 'AK_CHANGED',
  );
  assert.deepEqual(calls, ['attestationKey']);
  assert.equal(sent.length, 0);
});

test('an empty nonce or PCRs out of range are refused before the TPM; a success without certificates too', async () => {
  for (const bad of [{ nonce: new Uint8Array() }, { pcrs: [] }, { pcrs: [24] }]) {
    const calls: string[] = [];
    await assert.rejects(
      answerLoginChallenge({
        api: fakeApi([]),
        tpm: fakeTpm(calls),
        deviceData: DATA,
        certificates: CERTS,
        challenge: challenge(bad),
        expectedCredentialId: CRED_ID,
      }),
      /broke the device trust protocol/,
    );
    assert.deepEqual(calls, []);
  }
  await assert.rejects(
    answerLoginChallenge({
      api: fakeApi([], false),
      tpm: fakeTpm([]),
      deviceData: DATA,
      certificates: CERTS,
      challenge: challenge(),
      expectedCredentialId: CRED_ID,
    }),
    /success without re-issued certificates/,
  );
});
