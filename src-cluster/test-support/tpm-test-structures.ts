// Test-only: marshals TPM structures in software (keys from node:crypto), so unit tests can build
// edge cases a real TPM never emits: truncated, padded, wrong magic, weak keys, odd attributes.
import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import {
  TPM_ALG,
  TPM_ECC_CURVE,
  TPM_GENERATED_VALUE,
  TPM_ST_ATTEST,
  TPMA_OBJECT,
  type ObjectAttributeName,
} from '../devicetrust/tpm/constants.ts';
import { tpm2b, u16, u32 } from '../devicetrust/tpm/reader.ts';

export const AK_ATTRIBUTES: ObjectAttributeName[] = [
  'fixedTPM',
  'fixedParent',
  'sensitiveDataOrigin',
  'userWithAuth',
  'restricted',
  'sign',
];

export interface SoftKey {
  privateKey: KeyObject;
  /** TPMT_PUBLIC bytes. */
  tpmtPublic: Buffer;
}

function attrs(names: ObjectAttributeName[]): number {
  return names.reduce((a, n) => a | TPMA_OBJECT[n], 0) >>> 0;
}

export function softRsaKey(
  opts: {
    bits?: number;
    attributes?: ObjectAttributeName[];
    nameAlg?: number;
    scheme?: number;
    /** AES-128-CFB symmetric part, as an EK (storage key) has. */
    aes128cfb?: boolean;
  } = {},
): SoftKey {
  const bits = opts.bits ?? 2048;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const n = Buffer.from(publicKey.export({ format: 'jwk' }).n!, 'base64url');
  const scheme = opts.scheme ?? TPM_ALG.RSASSA;
  const tpmtPublic = Buffer.concat([
    u16(TPM_ALG.RSA),
    u16(opts.nameAlg ?? TPM_ALG.SHA256),
    u32(attrs(opts.attributes ?? AK_ATTRIBUTES)),
    tpm2b(Buffer.alloc(0)),
    ...(opts.aes128cfb ? [u16(TPM_ALG.AES), u16(128), u16(TPM_ALG.CFB)] : [u16(TPM_ALG.NULL)]),
    u16(scheme),
    ...(scheme === TPM_ALG.NULL ? [] : [u16(TPM_ALG.SHA256)]),
    u16(bits),
    u32(0), // exponent: default 65537
    tpm2b(n),
  ]);
  return { privateKey, tpmtPublic };
}

export function softEccKey(opts: { curve?: 'P-256' | 'P-384'; attributes?: ObjectAttributeName[] } = {}): SoftKey {
  const curve = opts.curve ?? 'P-256';
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const jwk = publicKey.export({ format: 'jwk' });
  const tpmtPublic = Buffer.concat([
    u16(TPM_ALG.ECC),
    u16(TPM_ALG.SHA256),
    u32(attrs(opts.attributes ?? AK_ATTRIBUTES)),
    tpm2b(Buffer.alloc(0)),
    u16(TPM_ALG.NULL),
    u16(TPM_ALG.ECDSA),
    u16(TPM_ALG.SHA256),
    u16(curve === 'P-256' ? TPM_ECC_CURVE.NIST_P256 : TPM_ECC_CURVE.NIST_P384),
    u16(TPM_ALG.NULL), // kdf
    tpm2b(Buffer.from(jwk.x!, 'base64url')),
    tpm2b(Buffer.from(jwk.y!, 'base64url')),
  ]);
  return { privateKey, tpmtPublic };
}

/** A TPMS_ATTEST of type quote over sha256 PCRs (index → value). */
export function softQuoteAttest(
  nonce: Buffer,
  pcrs: Map<number, Buffer>,
  opts: { magic?: number; type?: number } = {},
): Buffer {
  const select = Buffer.alloc(3);
  for (const i of pcrs.keys()) select[i >> 3]! |= 1 << (i & 7);
  const digest = createHash('sha256');
  for (const i of [...pcrs.keys()].sort((a, b) => a - b)) digest.update(pcrs.get(i)!);
  const clock = Buffer.alloc(17);
  clock.writeBigUInt64BE(12345n, 0);
  return Buffer.concat([
    u32(opts.magic ?? TPM_GENERATED_VALUE),
    u16(opts.type ?? TPM_ST_ATTEST.QUOTE),
    tpm2b(Buffer.concat([u16(TPM_ALG.SHA256), Buffer.alloc(32, 7)])),
    tpm2b(nonce),
    clock,
    Buffer.alloc(8), // firmwareVersion
    u32(1),
    u16(TPM_ALG.SHA256),
    Buffer.from([3]),
    select,
    tpm2b(digest.digest()),
  ]);
}

/** TPMT_SIGNATURE by a software key: RSASSA-SHA256 or ECDSA-SHA256 (r, s with leading zeros stripped, as TPMs do). */
export function softSign(key: SoftKey, data: Buffer, hashAlg: number = TPM_ALG.SHA256): Buffer {
  const hash = hashAlg === TPM_ALG.SHA1 ? 'sha1' : 'sha256';
  if (key.privateKey.asymmetricKeyType === 'rsa') {
    return Buffer.concat([u16(TPM_ALG.RSASSA), u16(hashAlg), tpm2b(sign(hash, data, key.privateKey))]);
  }
  const raw = sign(hash, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  const half = raw.length / 2;
  const strip = (b: Buffer): Buffer => b.subarray(Math.min(b.findIndex((x) => x !== 0) >>> 0, b.length - 1));
  return Buffer.concat([
    u16(TPM_ALG.ECDSA),
    u16(hashAlg),
    tpm2b(strip(raw.subarray(0, half))),
    tpm2b(strip(raw.subarray(half))),
  ]);
}
