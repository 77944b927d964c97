import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  CREDENTIAL_ID_PATTERN,
  credentialIdFromAkPublic,
  describeAkPublic,
  EK_KEY_HASH_PATTERN,
  ekKeyHash,
  tpmtPublicBytes,
} from './device-credential.ts';

// An ECC P-256 restricted signing key (ECDSA-SHA256) as a TPM marshals it; the expected id was
// computed outside Node with `xxd -r -p | sha256sum`.
const ECC_AK_TPMT_PUBLIC = Buffer.from(
  '0023000b00050072000000100018000b000300100020df961a9e0e02b31c0b7a4d2d967aa90b07ff43d0966d80bd11e285eac32fdf3f' +
    '0020169bd8872a562a0a70afa1d4902a06b524a3ccdacf63a99a5569a47ce5b84388',
  'hex',
);
const ECC_AK_ID = 'b82d87c7e375030bced8df0f73f38d2e8eaa433c01f6523165e611d65872c01e';

const tpm2b = (b: Buffer) => {
  const size = Buffer.alloc(2);
  size.writeUInt16BE(b.length);
  return Buffer.concat([size, b]);
};

describe('credentialIdFromAkPublic', () => {
  it('is the lowercase hex SHA-256 of the TPMT_PUBLIC (fixed vector)', () => {
    assert.equal(credentialIdFromAkPublic(ECC_AK_TPMT_PUBLIC), ECC_AK_ID);
    assert.match(ECC_AK_ID, CREDENTIAL_ID_PATTERN);
  });

  it('strips a TPM2B size prefix, so TPM2B_PUBLIC and TPMT_PUBLIC give the same id', () => {
    assert.deepEqual(tpmtPublicBytes(tpm2b(ECC_AK_TPMT_PUBLIC)), ECC_AK_TPMT_PUBLIC);
    assert.equal(credentialIdFromAkPublic(tpm2b(ECC_AK_TPMT_PUBLIC)), ECC_AK_ID);
    assert.equal(credentialIdFromAkPublic(new Uint8Array(tpm2b(ECC_AK_TPMT_PUBLIC))), ECC_AK_ID);
  });

  it('differs for a different key and rejects an empty area', () => {
    const other = Buffer.from(ECC_AK_TPMT_PUBLIC);
    other[other.length - 1] ^= 1;
    assert.notEqual(credentialIdFromAkPublic(other), ECC_AK_ID);
    assert.throws(() => credentialIdFromAkPublic(Buffer.from([0, 0])), /empty/);
  });
});

describe('describeAkPublic', () => {
  it('summarises an ECC AK and exports its public key', () => {
    const info = describeAkPublic(tpm2b(ECC_AK_TPMT_PUBLIC));
    assert.equal(info.algorithm, 'ECC');
    assert.equal(info.curve, 'P-256');
    assert.equal(info.keyBits, 256);
    assert.equal(info.nameAlg, 'sha256');
    assert.equal(info.scheme, 'ecdsa-sha256');
    assert.deepEqual(info.attributes, [
      'fixedTPM',
      'fixedParent',
      'sensitiveDataOrigin',
      'userWithAuth',
      'restricted',
      'sign',
    ]);
    const jwk = createPublicKey(info.publicKeyPem).export({ format: 'jwk' });
    assert.equal(Buffer.from(jwk.x!, 'base64url').toString('hex'), ECC_AK_TPMT_PUBLIC.subarray(22, 54).toString('hex'));
  });

  it('summarises an RSA AK (exponent 0 meaning 65537)', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const n = Buffer.from(publicKey.export({ format: 'jwk' }).n!, 'base64url');
    const u16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
    const area = Buffer.concat([
      u16(0x0001),
      u16(0x000b),
      Buffer.from([0, 5, 0, 0x72]),
      u16(0),
      u16(0x0010),
      u16(0x0014),
      u16(0x000b),
      u16(2048),
      Buffer.alloc(4),
      u16(n.length),
      n,
    ]);
    const info = describeAkPublic(area);
    assert.equal(info.algorithm, 'RSA');
    assert.equal(info.keyBits, 2048);
    assert.equal(info.scheme, 'rsassa-sha256');
    assert.ok(createPublicKey(info.publicKeyPem).equals(publicKey));
  });

  it('rejects truncated or non-key structures', () => {
    assert.throws(() => describeAkPublic(ECC_AK_TPMT_PUBLIC.subarray(0, 40)), /truncated/);
    const keyedHash = Buffer.from(ECC_AK_TPMT_PUBLIC);
    keyedHash.writeUInt16BE(0x0008, 0);
    assert.throws(() => describeAkPublic(keyedHash), /not an RSA or ECC key/);
  });
});

describe('ekKeyHash', () => {
  it('is the hex SHA-256 of the DER SubjectPublicKeyInfo (vector from openssl pkey -outform DER | sha256sum)', () => {
    const expected = '3ce13dcf5576d9b449ce010cc7f4a98db7be957850039d685f12430b9d8ea826';
    assert.equal(ekKeyHash(ECC_AK_TPMT_PUBLIC), expected);
    assert.equal(ekKeyHash(tpm2b(ECC_AK_TPMT_PUBLIC)), expected, 'a TPM2B prefix changes nothing');
    assert.match(expected, EK_KEY_HASH_PATTERN);
    assert.notEqual(ekKeyHash(ECC_AK_TPMT_PUBLIC), credentialIdFromAkPublic(ECC_AK_TPMT_PUBLIC));
  });
});
