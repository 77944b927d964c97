// TPMT_PUBLIC (TPM 2.0 Part 2 §12.2.4): the public area of a TPM key. We parse RSA and ECC keys
// (EKs and AKs), keep the exact bytes (the key's Name is a hash over them, and MakeCredential binds
// to that Name), and turn the key into a node:crypto KeyObject for signature checks and
// encryption to the EK.
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { TPM_ALG, TPM_ECC_CURVE, TPMA_OBJECT, algName, hashInfo, type ObjectAttributeName } from './constants.ts';
import { attestationError } from './errors.ts';
import { TpmReader, u16 } from './reader.ts';

export interface SymDef {
  /** TPM_ALG_NULL when the key has no symmetric part. */
  algorithm: number;
  keyBits: number;
  mode: number;
}

export interface Scheme {
  /** TPM_ALG_NULL when the key leaves the scheme to each command. */
  scheme: number;
  hashAlg: number;
}

interface PublicCommon {
  /** The exact marshalled TPMT_PUBLIC: what the Name hashes and what callers store. */
  raw: Buffer;
  nameAlg: number;
  objectAttributes: number;
  authPolicy: Buffer;
  symmetric: SymDef;
  scheme: Scheme;
}

export interface RsaPublic extends PublicCommon {
  type: 'rsa';
  keyBits: number;
  /** 0 in the structure means 65537; stored here already resolved. */
  exponent: number;
  modulus: Buffer;
}

export interface EccPublic extends PublicCommon {
  type: 'ecc';
  curveId: number;
  kdf: Scheme;
  x: Buffer;
  y: Buffer;
}

export type TpmPublic = RsaPublic | EccPublic;

const NULL_SYM: SymDef = { algorithm: TPM_ALG.NULL, keyBits: 0, mode: TPM_ALG.NULL };

function readSymDefObject(r: TpmReader): SymDef {
  const algorithm = r.u16('symmetric.algorithm');
  if (algorithm === TPM_ALG.NULL) return NULL_SYM;
  return { algorithm, keyBits: r.u16('symmetric.keyBits'), mode: r.u16('symmetric.mode') };
}

/** TPMT_RSA_SCHEME / TPMT_ECC_SCHEME / TPMT_KDF_SCHEME: every non-null member has a hashAlg, ECDAA also a count; RSAES has nothing. */
function readScheme(r: TpmReader, field: string): Scheme {
  const scheme = r.u16(`${field}.scheme`);
  if (scheme === TPM_ALG.NULL || scheme === TPM_ALG.RSAES) return { scheme, hashAlg: TPM_ALG.NULL };
  const hashAlg = r.u16(`${field}.hashAlg`);
  if (scheme === TPM_ALG.ECDAA) r.u16(`${field}.count`);
  return { scheme, hashAlg };
}

function readPublic(r: TpmReader): TpmPublic {
  const start = r.offset;
  const type = r.u16('type');
  const nameAlg = r.u16('nameAlg');
  const objectAttributes = r.u32('objectAttributes');
  const authPolicy = r.tpm2b('authPolicy', 64);
  if (type === TPM_ALG.RSA) {
    const symmetric = readSymDefObject(r);
    const scheme = readScheme(r, 'scheme');
    const keyBits = r.u16('keyBits');
    const exponent = r.u32('exponent') || 65537;
    const modulus = r.tpm2b('unique.rsa', 512);
    const raw = Buffer.from(r.buf.subarray(start, r.offset));
    return { type: 'rsa', raw, nameAlg, objectAttributes, authPolicy, symmetric, scheme, keyBits, exponent, modulus };
  }
  if (type === TPM_ALG.ECC) {
    const symmetric = readSymDefObject(r);
    const scheme = readScheme(r, 'scheme');
    const curveId = r.u16('curveID');
    const kdf = readScheme(r, 'kdf');
    const x = r.tpm2b('unique.ecc.x', 128);
    const y = r.tpm2b('unique.ecc.y', 128);
    const raw = Buffer.from(r.buf.subarray(start, r.offset));
    return { type: 'ecc', raw, nameAlg, objectAttributes, authPolicy, symmetric, scheme, curveId, kdf, x, y };
  }
  throw attestationError('unsupported_algorithm', `TPMT_PUBLIC type ${algName(type)} is not an RSA or ECC key`);
}

/** Parses a bare TPMT_PUBLIC (the whole buffer must be the structure). */
export function parseTpmtPublic(buf: Buffer): TpmPublic {
  const r = new TpmReader(buf, 'TPMT_PUBLIC');
  const pub = readPublic(r);
  r.end();
  return pub;
}

/** Parses a TPM2B_PUBLIC (u16 size then TPMT_PUBLIC), the form tpm2-tools writes with `-u`. */
export function parseTpm2bPublic(buf: Buffer): TpmPublic {
  const outer = new TpmReader(buf, 'TPM2B_PUBLIC');
  const inner = outer.tpm2b('publicArea');
  outer.end();
  return parseTpmtPublic(inner);
}

/** Accepts either encoding: a TPM2B_PUBLIC's size prefix equals the rest of the buffer, which a TPMT_PUBLIC's type field never does for real keys. */
export function parsePublic(buf: Buffer): TpmPublic {
  if (buf.length >= 2 && buf.readUInt16BE(0) === buf.length - 2) return parseTpm2bPublic(buf);
  return parseTpmtPublic(buf);
}

/** The key's Name: nameAlg ‖ H_nameAlg(TPMT_PUBLIC) (Part 1 §16). */
export function tpmName(pub: TpmPublic): Buffer {
  const h = hashInfo(pub.nameAlg);
  if (!h) throw attestationError('unsupported_algorithm', `nameAlg ${algName(pub.nameAlg)} is not a supported hash`);
  return Buffer.concat([u16(pub.nameAlg), createHash(h.name).update(pub.raw).digest()]);
}

export function hasAttribute(pub: TpmPublic, name: ObjectAttributeName): boolean {
  return (pub.objectAttributes & TPMA_OBJECT[name]) !== 0;
}

export function curveName(curveId: number): { jwk: 'P-256' | 'P-384'; bytes: number; node: string } | undefined {
  if (curveId === TPM_ECC_CURVE.NIST_P256) return { jwk: 'P-256', bytes: 32, node: 'prime256v1' };
  if (curveId === TPM_ECC_CURVE.NIST_P384) return { jwk: 'P-384', bytes: 48, node: 'secp384r1' };
  return undefined;
}

function leftPad(b: Buffer, n: number): Buffer {
  if (b.length > n) throw attestationError('malformed', `ECC coordinate is ${b.length} bytes, more than ${n}`);
  return Buffer.concat([Buffer.alloc(n - b.length), b]);
}

/** The public key as a node:crypto KeyObject (RSA or EC P-256/P-384). */
export function publicKeyObject(pub: TpmPublic): KeyObject {
  try {
    if (pub.type === 'rsa') {
      let e = Buffer.alloc(4);
      e.writeUInt32BE(pub.exponent);
      e = e.subarray(e.findIndex((x) => x !== 0));
      return createPublicKey({
        key: { kty: 'RSA', n: pub.modulus.toString('base64url'), e: e.toString('base64url') },
        format: 'jwk',
      });
    }
    const curve = curveName(pub.curveId);
    if (!curve)
      throw attestationError('unsupported_algorithm', `ECC curve 0x${pub.curveId.toString(16)} is not supported`);
    return createPublicKey({
      key: {
        kty: 'EC',
        crv: curve.jwk,
        x: leftPad(pub.x, curve.bytes).toString('base64url'),
        y: leftPad(pub.y, curve.bytes).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch (e) {
    if (e instanceof Error && e.name === 'GatehouseError') throw e;
    throw attestationError('malformed', `TPMT_PUBLIC does not hold a valid ${pub.type} key: ${(e as Error).message}`);
  }
}
