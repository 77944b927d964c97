// Parsing and checking edge cases a real TPM never produces but a hostile client can send:
// truncated or padded structures, wrong magic, unsupported algorithms, weak keys, tampering.
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src-shared/errors.ts';
import { checkAkProperties, assertAkProperties } from './ak-properties.ts';
import { parseAttest } from './attest.ts';
import { parseCreationData, verifyCreation } from './creation.ts';
import { TPM_ALG, TPM_ST_ATTEST } from './constants.ts';
import { kdfa, makeCredential } from './credential.ts';
import { parsePublic, parseTpm2bPublic, parseTpmtPublic, tpmName } from './public.ts';
import { tpm2b, u16 } from './reader.ts';
import { parseSignature } from './signature.ts';
import { verifyQuote } from './quote.ts';
import {
  AK_ATTRIBUTES,
  softEccKey,
  softQuoteAttest,
  softRsaKey,
  softSign,
} from '../../test-support/tpm-test-structures.ts';

function failsWith(fn: () => unknown, reason: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    const err = e as { code?: string; details?: { reason?: string }; message: string };
    assert.equal(err.code, ErrorCode.DEVICE_ATTESTATION_FAILED, err.message);
    assert.equal(err.details?.reason, reason, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

const rsa = softRsaKey();
const ecc = softEccKey();
const pcrs = new Map([
  [0, randomBytes(32)],
  [7, randomBytes(32)],
]);

test('every truncation of a TPMT_PUBLIC fails with the field it stopped at', () => {
  for (const key of [rsa, ecc]) {
    for (let len = 0; len < key.tpmtPublic.length; len++) {
      failsWith(
        () => parseTpmtPublic(key.tpmtPublic.subarray(0, len)),
        'malformed',
        /malformed TPMT_PUBLIC: truncated at \S+/,
      );
    }
  }
  failsWith(() => parseTpmtPublic(rsa.tpmtPublic.subarray(0, 9)), 'malformed', /truncated at authPolicy/);
});

test('trailing bytes after a structure are rejected', () => {
  failsWith(() => parseTpmtPublic(Buffer.concat([rsa.tpmtPublic, Buffer.from([0])])), 'malformed', /trailing/);
  const attest = softQuoteAttest(randomBytes(8), pcrs);
  failsWith(() => parseAttest(Buffer.concat([attest, Buffer.from([0])])), 'malformed', /trailing/);
  const sig = softSign(rsa, attest);
  failsWith(() => parseSignature(Buffer.concat([sig, Buffer.from([0])])), 'malformed', /TPMT_SIGNATURE.*trailing/);
});

test('TPM2B_PUBLIC and TPMT_PUBLIC encodings parse to the same key and Name', () => {
  const a = parseTpmtPublic(rsa.tpmtPublic);
  const b = parseTpm2bPublic(tpm2b(rsa.tpmtPublic));
  assert.deepEqual(b, a);
  assert.deepEqual(parsePublic(tpm2b(ecc.tpmtPublic)), parsePublic(ecc.tpmtPublic));
  const name = tpmName(a);
  assert.equal(name.length, 34);
  assert.equal(name.readUInt16BE(0), TPM_ALG.SHA256);
  failsWith(
    () => parseTpm2bPublic(Buffer.concat([tpm2b(rsa.tpmtPublic), Buffer.from([1])])),
    'malformed',
    /TPM2B_PUBLIC/,
  );
});

test('keys other than RSA/ECC, and oversized fields, are rejected', () => {
  const keyedHash = Buffer.from(rsa.tpmtPublic);
  keyedHash.writeUInt16BE(TPM_ALG.KEYEDHASH, 0);
  failsWith(() => parseTpmtPublic(keyedHash), 'unsupported_algorithm', /keyedhash/);
  const hugePolicy = Buffer.concat([rsa.tpmtPublic.subarray(0, 8), u16(200), Buffer.alloc(200)]);
  failsWith(() => parseTpmtPublic(hugePolicy), 'malformed', /authPolicy is 200 bytes/);
});

test('an attestation without the TPM magic or of another type is rejected', () => {
  failsWith(
    () => parseAttest(softQuoteAttest(randomBytes(8), pcrs, { magic: 0x12345678 })),
    'malformed',
    /not made by a TPM/,
  );
  failsWith(
    () => parseAttest(softQuoteAttest(randomBytes(8), pcrs, { type: TPM_ST_ATTEST.TIME })),
    'wrong_attestation_type',
  );
  const attest = softQuoteAttest(randomBytes(8), pcrs);
  for (let len = 0; len < attest.length; len++) failsWith(() => parseAttest(attest.subarray(0, len)), 'malformed');
  const q = parseAttest(attest);
  assert.equal(q.type, 'quote');
  assert.equal(q.type === 'quote' && q.pcrSelect[0]!.pcrs.join(','), '0,7');
  assert.equal(q.clockInfo.clock, 12345n);
});

test('a software-made quote verifies, with ECDSA r/s shorter than the curve size too', () => {
  const nonce = randomBytes(20);
  const attest = softQuoteAttest(nonce, pcrs);
  const banks = [{ hash: 'sha256' as const, values: pcrs }];
  verifyQuote({ akPublic: rsa.tpmtPublic, attest, signature: softSign(rsa, attest), nonce, pcrs: banks });
  // About 1 in 128 signatures has an r or s shorter than 32 bytes (TPMs strip leading zeros): find one.
  let short = 0;
  for (let i = 0; i < 5000 && short === 0; i++) {
    const sig = softSign(ecc, attest);
    verifyQuote({ akPublic: ecc.tpmtPublic, attest, signature: sig, nonce, pcrs: banks });
    const rLen = sig.readUInt16BE(4);
    if (rLen < 32 || sig.readUInt16BE(6 + rLen) < 32) short++;
  }
  assert.equal(short, 1, 'no short ECDSA r/s in 5000 signatures');
});

test('a quote made by a key of another type, or with SHA-1, is rejected', () => {
  const nonce = randomBytes(20);
  const attest = softQuoteAttest(nonce, pcrs);
  failsWith(
    () => verifyQuote({ akPublic: ecc.tpmtPublic, attest, signature: softSign(rsa, attest), nonce }),
    'bad_signature',
  );
  failsWith(
    () => verifyQuote({ akPublic: rsa.tpmtPublic, attest, signature: softSign(ecc, attest), nonce }),
    'bad_signature',
  );
  failsWith(
    () => verifyQuote({ akPublic: rsa.tpmtPublic, attest, signature: softSign(rsa, attest, TPM_ALG.SHA1), nonce }),
    'unsupported_algorithm',
  );
});

test('checkAkProperties names each problem', () => {
  assert.deepEqual(checkAkProperties(rsa.tpmtPublic), { ok: true, problems: [] });
  assert.deepEqual(checkAkProperties(ecc.tpmtPublic).ok, true);
  const without = (drop: string) => AK_ATTRIBUTES.filter((a) => a !== drop);
  const cases: [Buffer, string[]][] = [
    [softRsaKey({ attributes: without('restricted') }).tpmtPublic, ['not_restricted']],
    [softRsaKey({ attributes: without('sign') }).tpmtPublic, ['not_sign']],
    [softRsaKey({ attributes: [...AK_ATTRIBUTES, 'decrypt'] }).tpmtPublic, ['decrypt']],
    [softRsaKey({ attributes: without('fixedTPM') }).tpmtPublic, ['not_fixed_tpm']],
    [softRsaKey({ attributes: without('fixedParent') }).tpmtPublic, ['not_fixed_parent']],
    [softRsaKey({ attributes: without('sensitiveDataOrigin') }).tpmtPublic, ['not_sensitive_data_origin']],
    [softRsaKey({ nameAlg: TPM_ALG.SHA1 }).tpmtPublic, ['weak_name_alg']],
    [softRsaKey({ bits: 1024 }).tpmtPublic, ['rsa_too_small']],
    [softEccKey({ curve: 'P-384' }).tpmtPublic, ['unsupported_curve']],
  ];
  for (const [pub, problems] of cases) {
    assert.deepEqual(
      checkAkProperties(pub).problems.map((p) => p.problem),
      problems,
    );
  }
  failsWith(() => assertAkProperties(cases[0]![0]), 'ak_properties', /not restricted/);
});

test('makeCredential refuses keys that cannot be EKs and secrets that do not fit', () => {
  const ek = softRsaKey({ aes128cfb: true, scheme: TPM_ALG.NULL, attributes: ['fixedTPM', 'restricted', 'decrypt'] });
  const akName = tpmName(parsePublic(rsa.tpmtPublic));
  const cred = makeCredential(ek.tpmtPublic, akName, randomBytes(32));
  // TPM2B_ID_OBJECT = size ‖ TPM2B_DIGEST(HMAC-SHA256) ‖ AES-CFB(TPM2B_DIGEST(secret)); the seed is OAEP to a 2048-bit key.
  assert.equal(cred.credentialBlob.length, 2 + 2 + 32 + 2 + 32);
  assert.equal(cred.encryptedSecret.length, 2 + 256);
  assert.throws(() => makeCredential(ek.tpmtPublic, akName, randomBytes(33)), RangeError);
  assert.throws(() => makeCredential(ek.tpmtPublic, akName, Buffer.alloc(0)), RangeError);
  // An AK has no symmetric algorithm: not a storage key, so a TPM could not activate with it.
  failsWith(
    () => makeCredential(rsa.tpmtPublic, tpmName(parsePublic(rsa.tpmtPublic)), randomBytes(16)),
    'unsupported_algorithm',
    /AES-CFB/,
  );
});

test('kdfa truncates to the requested bits and depends on every input', () => {
  const key = randomBytes(32);
  const base = kdfa('sha256', key, 'STORAGE', Buffer.from('u'), Buffer.alloc(0), 128);
  assert.equal(base.length, 16);
  assert.equal(kdfa('sha256', key, 'STORAGE', Buffer.from('u'), Buffer.alloc(0), 512).length, 64);
  assert.notDeepEqual(kdfa('sha256', key, 'INTEGRITY', Buffer.from('u'), Buffer.alloc(0), 128), base);
  assert.notDeepEqual(kdfa('sha256', key, 'STORAGE', Buffer.from('v'), Buffer.alloc(0), 128), base);
  // The bit count is part of the input, so a 256-bit key does not start with the 128-bit one.
  assert.notDeepEqual(kdfa('sha256', key, 'STORAGE', Buffer.from('u'), Buffer.alloc(0), 256).subarray(0, 16), base);
  assert.ok(kdfa('sha256', key, 'x', Buffer.alloc(0), Buffer.alloc(0), 4)[0]! < 16);
});

test('a quote is not a creation attestation, and truncated creation data is rejected', () => {
  const attest = softQuoteAttest(randomBytes(8), pcrs);
  const creationData = Buffer.concat([
    Buffer.from([0, 0, 0, 0]), // no PCRs selected
    tpm2b(Buffer.alloc(0)),
    Buffer.from([0]), // locality
    u16(TPM_ALG.SHA256),
    tpm2b(Buffer.alloc(34, 1)),
    tpm2b(Buffer.alloc(34, 2)),
    tpm2b(Buffer.alloc(0)),
  ]);
  assert.equal(parseCreationData(creationData).parentName.length, 34);
  assert.deepEqual(parseCreationData(tpm2b(creationData)), parseCreationData(creationData));
  failsWith(
    () => verifyCreation({ akPublic: rsa.tpmtPublic, creationData, attest, signature: softSign(rsa, attest) }),
    'wrong_attestation_type',
  );
  for (let len = 0; len < creationData.length; len++) {
    failsWith(() => parseCreationData(creationData.subarray(0, len)), 'malformed', /TPM.?_CREATION_DATA/);
  }
});
