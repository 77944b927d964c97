// Test-only readers for the TPM structures the addon returns, so the tests check the TPM's output
// with node:crypto and tpm2-tools instead of trusting the addon's own view of it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPublicKey, verify, type KeyObject } from 'node:crypto';

const TPM_ALG_NULL = 0x0010;
const TPM_ALG_RSA = 0x0001;

class Reader {
  off = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    return this.buf.readUInt8((this.off += 1) - 1);
  }
  u16(): number {
    return this.buf.readUInt16BE((this.off += 2) - 2);
  }
  u32(): number {
    return this.buf.readUInt32BE((this.off += 4) - 4);
  }
  bytes(n: number): Buffer {
    if (this.off + n > this.buf.length) throw new Error(`TPM structure truncated at ${this.off}+${n}`);
    return this.buf.subarray((this.off += n) - n, this.off);
  }
  tpm2b(): Buffer {
    return this.bytes(this.u16());
  }
  get done(): boolean {
    return this.off === this.buf.length;
  }
}

export interface RsaPublicArea {
  type: number;
  nameAlg: number;
  attributes: number;
  authPolicy: Buffer;
  keyBits: number;
  scheme: number;
  key: KeyObject;
}

/** Parses an RSA TPMT_PUBLIC into its fields and a node:crypto public key. */
export function parseRsaPublic(tpmtPublic: Buffer): RsaPublicArea {
  const r = new Reader(tpmtPublic);
  const type = r.u16();
  if (type !== TPM_ALG_RSA) throw new Error(`not an RSA key (type 0x${type.toString(16)})`);
  const nameAlg = r.u16();
  const attributes = r.u32();
  const authPolicy = r.tpm2b();
  const symAlg = r.u16();
  if (symAlg !== TPM_ALG_NULL) r.bytes(4); // keyBits + mode
  const scheme = r.u16();
  if (scheme !== TPM_ALG_NULL) r.u16(); // scheme hash
  const keyBits = r.u16();
  const exponent = r.u32() || 65537;
  const modulus = r.tpm2b();
  if (!r.done) throw new Error('trailing bytes after TPMT_PUBLIC');
  const e = Buffer.alloc(4);
  e.writeUInt32BE(exponent);
  const key = createPublicKey({
    key: {
      kty: 'RSA',
      n: modulus.toString('base64url'),
      e: e.subarray(e.findIndex((b) => b !== 0)).toString('base64url'),
    },
    format: 'jwk',
  });
  return { type, nameAlg, attributes, authPolicy, keyBits, scheme, key };
}

/** TPMT_PUBLIC out of a marshaled TPM2B_PUBLIC. */
export function publicArea(tpm2bPublic: Buffer): Buffer {
  const size = tpm2bPublic.readUInt16BE(0);
  if (size !== tpm2bPublic.length - 2) throw new Error('TPM2B_PUBLIC size does not match its length');
  return tpm2bPublic.subarray(2);
}

/** The RSASSA signature bytes out of a TPMT_SIGNATURE (checks the algorithm is RSASSA-SHA256). */
export function rsassaSignature(tpmtSignature: Buffer): Buffer {
  const r = new Reader(tpmtSignature);
  const alg = r.u16();
  const hash = r.u16();
  if (alg !== 0x0014 || hash !== 0x000b)
    throw new Error(`unexpected signature alg 0x${alg.toString(16)}/0x${hash.toString(16)}`);
  const sig = r.tpm2b();
  if (!r.done) throw new Error('trailing bytes after TPMT_SIGNATURE');
  return sig;
}

export interface QuoteAttest {
  magic: number;
  type: number;
  extraData: Buffer;
  pcrSelect: { hash: number; select: Buffer }[];
  pcrDigest: Buffer;
}

export function parseQuoteAttest(attest: Buffer): QuoteAttest {
  const r = new Reader(attest);
  const magic = r.u32();
  const type = r.u16();
  r.tpm2b(); // qualifiedSigner
  const extraData = r.tpm2b();
  r.bytes(17); // clockInfo
  r.bytes(8); // firmwareVersion
  const count = r.u32();
  const pcrSelect = [];
  for (let i = 0; i < count; i++) {
    const hash = r.u16();
    pcrSelect.push({ hash, select: Buffer.from(r.bytes(r.u8())) });
  }
  const pcrDigest = r.tpm2b();
  if (!r.done) throw new Error('trailing bytes after TPMS_ATTEST');
  return { magic, type, extraData, pcrSelect, pcrDigest };
}

/** Runs `tpm2_<tool>` with the given env (TPM2TOOLS_TCTI); throws with its output on failure. */
export function tpm2(tool: string, args: string[], env: NodeJS.ProcessEnv = process.env): Buffer {
  const r = spawnSync(`tpm2_${tool}`, args, { env, timeout: 60_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`tpm2_${tool} not found on PATH; install the Debian package: apt-get install tpm2-tools`);
  }
  if (r.status !== 0) {
    throw new Error(`tpm2_${tool} ${args.join(' ')} failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Asserts the quote is signed by the AK, is a TPM quote and carries the nonce; returns it parsed. */
export function verifyQuote(
  akPublic: Buffer,
  quote: { attest: Buffer; signature: Buffer },
  nonce: Buffer,
): ReturnType<typeof parseQuoteAttest> {
  const { key } = parseRsaPublic(publicArea(akPublic));
  assert.ok(
    verify('sha256', quote.attest, key, rsassaSignature(quote.signature)),
    'quote signature verifies with the AK',
  );
  const attest = parseQuoteAttest(quote.attest);
  assert.equal(attest.magic, 0xff544347);
  assert.equal(attest.type, 0x8018, 'TPM_ST_ATTEST_QUOTE');
  assert.deepEqual(attest.extraData, nonce);
  return attest;
}
