// The device credential id and a readable summary of a TPM attestation key (AK).
//
// Credential id = lowercase hex SHA-256 of the AK's TPMT_PUBLIC bytes (the public area without
// the TPM2B size prefix). Why this definition:
// - Stable: the TPMT_PUBLIC is fixed when the AK is created and comes back byte-for-byte every
//   time the wrapped blob is loaded again, so the id survives reloads, reboots and new logins;
//   a new AK (stale blob recreated) gets a new id, which is right since it must be re-enrolled.
// - Computable on both sides from what is already exchanged: the client has the TPMT_PUBLIC
//   from the TPM, the cluster receives the same bytes in the enrollment init; neither needs
//   the other's parser or a server-made id, and the cluster can check the client's claim.
// - Unambiguous: hashing the marshalled structure (not a re-encoded PEM/DER of the key) avoids
//   encoding variants; the TPM2B prefix is stripped so "TPM2B_PUBLIC" and "TPMT_PUBLIC" inputs
//   name the same key.
import { createHash, createPublicKey } from 'node:crypto';

const ALG = { RSA: 0x0001, SHA1: 0x0004, SHA256: 0x000b, SHA384: 0x000c, SHA512: 0x000d, NULL: 0x0010 } as const;
const ALG_ECC = 0x0023;
const ALG_NAMES: Record<number, string> = {
  0x0004: 'sha1',
  0x000b: 'sha256',
  0x000c: 'sha384',
  0x000d: 'sha512',
  0x0010: 'null',
  0x0014: 'rsassa',
  0x0016: 'rsapss',
  0x0018: 'ecdsa',
  0x001a: 'ecdaa',
  0x0006: 'aes',
  0x0043: 'cfb',
};
const CURVES: Record<number, { name: string; jwk: string; bytes: number }> = {
  0x0003: { name: 'P-256', jwk: 'P-256', bytes: 32 },
  0x0004: { name: 'P-384', jwk: 'P-384', bytes: 48 },
  0x0005: { name: 'P-521', jwk: 'P-521', bytes: 66 },
};
const ATTRIBUTES: [number, string][] = [
  [0x2, 'fixedTPM'],
  [0x4, 'stClear'],
  [0x10, 'fixedParent'],
  [0x20, 'sensitiveDataOrigin'],
  [0x40, 'userWithAuth'],
  [0x80, 'adminWithPolicy'],
  [0x400, 'noDA'],
  [0x800, 'encryptedDuplication'],
  [0x10000, 'restricted'],
  [0x20000, 'decrypt'],
  [0x40000, 'sign'],
];

/**
 * The TPMT_PUBLIC inside `bytes`. A TPM2B_PUBLIC is recognised by its leading u16 equal to the
 * remaining length; a bare TPMT_PUBLIC cannot look like that, since it starts with the key type
 * (RSA 0x0001, ECC 0x0023) and an RSA/ECC public area is always longer than 3 or 37 bytes.
 */
export function tpmtPublicBytes(bytes: Uint8Array): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 2 && buf.readUInt16BE(0) === buf.length - 2) return buf.subarray(2);
  return buf;
}

/** The credential id of an AK: lowercase hex SHA-256 of its TPMT_PUBLIC (TPM2B prefix stripped). */
export function credentialIdFromAkPublic(akPublic: Uint8Array): string {
  const area = tpmtPublicBytes(akPublic);
  if (area.length === 0) throw new Error('empty AK public area');
  return createHash('sha256').update(area).digest('hex');
}

export const CREDENTIAL_ID_PATTERN = /^[0-9a-f]{64}$/;

export interface AkPublicInfo {
  algorithm: 'RSA' | 'ECC';
  /** RSA modulus size or the curve's size. */
  keyBits: number;
  /** ECC only. */
  curve?: string;
  nameAlg: string;
  /** Signing scheme fixed in the key, e.g. "rsassa-sha256" (or "null"). */
  scheme: string;
  attributes: string[];
  /** SubjectPublicKeyInfo PEM, for tools outside the TPM world. */
  publicKeyPem: string;
}

function algName(id: number): string {
  return ALG_NAMES[id] ?? `0x${id.toString(16).padStart(4, '0')}`;
}

/** Summarises an RSA or ECC TPMT_PUBLIC (TPM2B prefix allowed) for display; throws on anything else. */
export function describeAkPublic(akPublic: Uint8Array): AkPublicInfo {
  const b = tpmtPublicBytes(akPublic);
  let off = 0;
  const need = (n: number) => {
    if (off + n > b.length) throw new Error(`AK public area truncated at byte ${off}`);
  };
  const u16 = () => (need(2), (off += 2), b.readUInt16BE(off - 2));
  const u32 = () => (need(4), (off += 4), b.readUInt32BE(off - 4));
  const tpm2b = () => {
    const n = u16();
    need(n);
    off += n;
    return b.subarray(off - n, off);
  };
  const type = u16();
  const nameAlg = algName(u16());
  const attrs = u32();
  tpm2b(); // authPolicy
  const attributes = ATTRIBUTES.filter(([bit]) => (attrs & bit) !== 0).map(([, n]) => n);
  if (u16() !== ALG.NULL) off += 4; // symmetric keyBits + mode (restricted decrypt keys only)
  const schemeAlg = u16();
  const scheme = schemeAlg === ALG.NULL ? 'null' : `${algName(schemeAlg)}-${algName(u16())}`;
  if (type === ALG.RSA) {
    const keyBits = u16();
    const exponent = u32() || 65537;
    const n = tpm2b();
    const e = Buffer.alloc(4);
    e.writeUInt32BE(exponent);
    const key = createPublicKey({
      key: { kty: 'RSA', n: n.toString('base64url'), e: e.subarray(e.findIndex((x) => x !== 0)).toString('base64url') },
      format: 'jwk',
    });
    const publicKeyPem = key.export({ type: 'spki', format: 'pem' }).toString();
    return { algorithm: 'RSA', keyBits, nameAlg, scheme, attributes, publicKeyPem };
  }
  if (type === ALG_ECC) {
    const curveId = u16();
    if (u16() !== ALG.NULL) u16(); // kdf scheme + hash
    const x = tpm2b();
    const y = tpm2b();
    const curve = CURVES[curveId];
    if (!curve) throw new Error(`unsupported ECC curve 0x${curveId.toString(16)}`);
    const pad = (v: Buffer) => Buffer.concat([Buffer.alloc(Math.max(0, curve.bytes - v.length)), v]);
    const key = createPublicKey({
      key: { kty: 'EC', crv: curve.jwk, x: pad(x).toString('base64url'), y: pad(y).toString('base64url') },
      format: 'jwk',
    });
    const publicKeyPem = key.export({ type: 'spki', format: 'pem' }).toString();
    return {
      algorithm: 'ECC',
      keyBits: curve.bytes * 8 === 528 ? 521 : curve.bytes * 8,
      curve: curve.name,
      nameAlg,
      scheme,
      attributes,
      publicKeyPem,
    };
  }
  throw new Error(`not an RSA or ECC key (type 0x${type.toString(16)})`);
}

/**
 * The EK key hash an administrator binds a device to (`gatectl devices add --ek-key-hash`):
 * lowercase hex SHA-256 of the EK's DER SubjectPublicKeyInfo (RFC 5280), computed from its
 * TPMT_PUBLIC (TPM2B prefix allowed). SPKI rather than the TPM structure so the same value comes
 * out of the EK certificate's key, `openssl pkey -pubin -outform DER | sha256sum`, or the TPM;
 * `gate device keyget` prints it on the device and the cluster computes it from the enrollment.
 */
export function ekKeyHash(ekPublic: Uint8Array): string {
  const spki = createPublicKey(describeAkPublic(ekPublic).publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('hex');
}

/** Same shape as a credential id: 64 lowercase hex digits. */
export const EK_KEY_HASH_PATTERN = /^[0-9a-f]{64}$/;
