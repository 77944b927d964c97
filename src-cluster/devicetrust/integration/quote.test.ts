// Quotes made by the reference client (tpm2_quote on swtpm) must verify with our verifier, and
// every kind of tampering must fail with its own reason: wrong nonce, changed bytes, another key,
// PCR values that are not the quoted ones.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src-shared/errors.ts';
import { checkAkProperties } from '../tpm/ak-properties.ts';
import { parsePublic, tpmName } from '../tpm/public.ts';
import { verifyQuote, type PcrBank } from '../tpm/quote.ts';
import { createAk, startTpmFixture, type KeyFiles, type TpmFixture } from './tpm-fixture.ts';
import { flushAll, tpm2 } from './tpm2-tools.ts';

let f: TpmFixture;
let akRsa2: KeyFiles;
let akPss: KeyFiles;
/** A signing key without `restricted`: the TPM will quote with it, which is why we refuse such AKs. */
let unrestricted: KeyFiles;

before(async () => {
  f = await startTpmFixture();
  akRsa2 = createAk(f.tpm, f.dir, 'ak-rsa2', f.ekRsa.ctx, 'rsa', 'rsassa');
  akPss = createAk(f.tpm, f.dir, 'ak-pss', f.ekRsa.ctx, 'rsa', 'rsapss');
  const ctx = join(f.dir, 'unrestricted.ctx');
  const pub = join(f.dir, 'unrestricted.pub');
  tpm2(f.tpm, 'createprimary', [
    '-C',
    'o',
    '-G',
    'rsa2048:rsassa-sha256:null',
    '-a',
    'fixedtpm|fixedparent|sensitivedataorigin|userwithauth|sign',
    '-c',
    ctx,
  ]);
  tpm2(f.tpm, 'readpublic', ['-c', ctx, '-o', pub]);
  flushAll(f.tpm);
  unrestricted = { ctx, pub: readFileSync(pub), name: Buffer.alloc(0) };
  // Non-zero PCR contents, so a digest over the wrong values cannot match by accident.
  tpm2(f.tpm, 'pcrextend', [`1:sha256=${randomBytes(32).toString('hex')}`]);
});
after(async () => {
  await f?.close();
});

function quote(ak: KeyFiles, nonce: Buffer, scheme?: string): { attest: Buffer; signature: Buffer } {
  const id = process.hrtime.bigint();
  const msg = join(f.dir, `quote-${id}.msg`);
  const sig = join(f.dir, `quote-${id}.sig`);
  tpm2(f.tpm, 'quote', [
    '-c',
    ak.ctx,
    '-l',
    'sha256:0,1',
    '-q',
    nonce.toString('hex'),
    '-m',
    msg,
    '-s',
    sig,
    '-g',
    'sha256',
    ...(scheme ? [`--scheme=${scheme}`] : []),
  ]);
  flushAll(f.tpm);
  return { attest: readFileSync(msg), signature: readFileSync(sig) };
}

function readPcrs(indices: number[]): PcrBank[] {
  const file = join(f.dir, `pcrs-${process.hrtime.bigint()}`);
  tpm2(f.tpm, 'pcrread', [`sha256:${indices.join(',')}`, '-o', file]);
  const raw = readFileSync(file);
  return [{ hash: 'sha256', values: new Map(indices.map((i, k) => [i, raw.subarray(k * 32, k * 32 + 32)])) }];
}

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at]! ^= 0x01;
  return c;
}

function rejects(fn: () => unknown, reason: string): void {
  assert.throws(fn, (e: unknown) => {
    const err = e as { code?: string; details?: { reason?: string }; message?: string };
    assert.equal(err.code, ErrorCode.DEVICE_ATTESTATION_FAILED, err.message);
    assert.equal(err.details?.reason, reason, err.message);
    return true;
  });
}

test('an RSASSA quote verifies: signature, nonce and PCR digest', () => {
  const nonce = randomBytes(20);
  const q = quote(f.akRsa, nonce);
  const attest = verifyQuote({ akPublic: f.akRsa.pub, ...q, nonce, pcrs: readPcrs([0, 1]) });
  assert.equal(attest.type, 'quote');
  assert.deepEqual(attest.extraData, nonce);
  assert.deepEqual(attest.pcrSelect, [{ hashAlg: 0x000b, pcrs: [0, 1] }]);
  // The signer is named by its qualified name, whose nameAlg is the AK's.
  assert.equal(attest.qualifiedSigner.readUInt16BE(0), tpmName(parsePublic(f.akRsa.pub)).readUInt16BE(0));
});

test('ECDSA P-256 and RSAPSS quotes verify', () => {
  const nonce = randomBytes(16);
  verifyQuote({ akPublic: f.akEcc.pub, ...quote(f.akEcc, nonce), nonce, pcrs: readPcrs([0, 1]) });
  verifyQuote({ akPublic: akPss.pub, ...quote(akPss, nonce, 'rsapss'), nonce, pcrs: readPcrs([0, 1]) });
});

test('a quote for another nonce is rejected', () => {
  const q = quote(f.akRsa, randomBytes(20));
  rejects(() => verifyQuote({ akPublic: f.akRsa.pub, ...q, nonce: randomBytes(20) }), 'nonce_mismatch');
});

test('a flipped bit anywhere in the attestation or the signature is rejected', () => {
  const nonce = randomBytes(20);
  const q = quote(f.akRsa, nonce);
  // Offsets: qualifiedSigner, extraData (the nonce), clockInfo, and the last byte of the PCR digest.
  for (const at of [8, 44, 66, q.attest.length - 1]) {
    rejects(
      () => verifyQuote({ akPublic: f.akRsa.pub, attest: flip(q.attest, at), signature: q.signature, nonce }),
      'bad_signature',
    );
  }
  rejects(
    () =>
      verifyQuote({
        akPublic: f.akRsa.pub,
        attest: q.attest,
        signature: flip(q.signature, q.signature.length - 1),
        nonce,
      }),
    'bad_signature',
  );
  const e = quote(f.akEcc, nonce);
  rejects(
    () => verifyQuote({ akPublic: f.akEcc.pub, attest: e.attest, signature: flip(e.signature, 10), nonce }),
    'bad_signature',
  );
});

test("a quote checked against another AK's public key is rejected", () => {
  const nonce = randomBytes(20);
  const q = quote(f.akRsa, nonce);
  rejects(() => verifyQuote({ akPublic: akRsa2.pub, ...q, nonce }), 'bad_signature');
  rejects(() => verifyQuote({ akPublic: akPss.pub, ...q, nonce }), 'bad_signature');
  rejects(() => verifyQuote({ akPublic: f.akEcc.pub, ...q, nonce }), 'bad_signature');
});

test('PCR values other than the quoted ones are rejected', () => {
  const nonce = randomBytes(20);
  const q = quote(f.akRsa, nonce);
  const pcrs = readPcrs([0, 1]);
  const wrong: PcrBank[] = [
    {
      hash: 'sha256',
      values: new Map([
        [0, pcrs[0]!.values.get(0)!],
        [1, Buffer.alloc(32)],
      ]),
    },
  ];
  rejects(() => verifyQuote({ akPublic: f.akRsa.pub, ...q, nonce, pcrs: wrong }), 'pcr_mismatch');
  rejects(() => verifyQuote({ akPublic: f.akRsa.pub, ...q, nonce, pcrs: readPcrs([0, 1, 2]) }), 'pcr_mismatch');
  // The PCR changes after the quote: the old quote no longer matches the current values.
  tpm2(f.tpm, 'pcrextend', [`1:sha256=${randomBytes(32).toString('hex')}`]);
  rejects(() => verifyQuote({ akPublic: f.akRsa.pub, ...q, nonce, pcrs: readPcrs([0, 1]) }), 'pcr_mismatch');
});

test('checkAkProperties accepts tpm2_createak keys and rejects a non-restricted signing key', () => {
  for (const ak of [f.akRsa, f.akEcc, akPss]) assert.deepEqual(checkAkProperties(ak.pub), { ok: true, problems: [] });
  const bad = checkAkProperties(unrestricted.pub);
  assert.equal(bad.ok, false);
  assert.deepEqual(
    bad.problems.map((p) => p.problem),
    ['not_restricted'],
  );
  // The TPM does quote with it, and the signature is genuine: only the AK check stops it.
  const nonce = randomBytes(20);
  verifyQuote({ akPublic: unrestricted.pub, ...quote(unrestricted, nonce), nonce });
  // An EK is restricted but a decryption key, not a signing key.
  assert.deepEqual(
    checkAkProperties(f.ekRsa.pub).problems.map((p) => p.problem),
    ['not_sign', 'decrypt'],
  );
});
