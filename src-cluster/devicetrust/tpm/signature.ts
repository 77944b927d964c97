// TPMT_SIGNATURE (TPM 2.0 Part 2 §11.3.4) and its check against a TPMT_PUBLIC key with node:crypto.
// Only the schemes an AK uses are accepted (RSASSA, RSAPSS, ECDSA) with SHA-256 or stronger; the
// signature's scheme must also match the key's own scheme when the key fixes one, so a key meant
// for one scheme cannot be made to vouch under another.
import { constants, verify } from 'node:crypto';
import { TPM_ALG, algName, hashInfo, type HashName } from './constants.ts';
import { attestationError } from './errors.ts';
import { curveName, publicKeyObject, type TpmPublic } from './public.ts';
import { TpmReader } from './reader.ts';

export type TpmSignature =
  | { sigAlg: 'rsassa' | 'rsapss'; hashAlg: number; sig: Buffer }
  | { sigAlg: 'ecdsa'; hashAlg: number; r: Buffer; s: Buffer };

export function parseSignature(buf: Buffer): TpmSignature {
  const rd = new TpmReader(buf, 'TPMT_SIGNATURE');
  const alg = rd.u16('sigAlg');
  let out: TpmSignature;
  if (alg === TPM_ALG.RSASSA || alg === TPM_ALG.RSAPSS) {
    const hashAlg = rd.u16('hash');
    out = { sigAlg: alg === TPM_ALG.RSASSA ? 'rsassa' : 'rsapss', hashAlg, sig: rd.tpm2b('sig', 512) };
  } else if (alg === TPM_ALG.ECDSA) {
    const hashAlg = rd.u16('hash');
    const r = rd.tpm2b('signatureR', 66);
    out = { sigAlg: 'ecdsa', hashAlg, r, s: rd.tpm2b('signatureS', 66) };
  } else {
    throw attestationError('unsupported_algorithm', `signature algorithm ${algName(alg)} is not supported`);
  }
  rd.end();
  return out;
}

const SCHEME_ID = { rsassa: TPM_ALG.RSASSA, rsapss: TPM_ALG.RSAPSS, ecdsa: TPM_ALG.ECDSA } as const;

function signatureHash(sig: TpmSignature): HashName {
  const h = hashInfo(sig.hashAlg);
  if (!h || h.name === 'sha1') {
    throw attestationError('unsupported_algorithm', `signature hash ${algName(sig.hashAlg)} is not accepted`);
  }
  return h.name;
}

/** r or s as the curve's fixed-size big-endian integer; TPMs strip leading zeros, some pad. */
function leftPad(b: Buffer, n: number): Buffer | undefined {
  const first = b.findIndex((x) => x !== 0);
  const t = first < 0 ? Buffer.alloc(0) : b.subarray(first);
  return t.length > n ? undefined : Buffer.concat([Buffer.alloc(n - t.length), t]);
}

/** Throws `bad_signature` unless `sig` is `key`'s signature over `data`; returns the hash it used. */
export function verifySignature(key: TpmPublic, data: Buffer, sig: TpmSignature): HashName {
  const hash = signatureHash(sig);
  const keyScheme = key.scheme.scheme;
  if (keyScheme !== TPM_ALG.NULL && (keyScheme !== SCHEME_ID[sig.sigAlg] || key.scheme.hashAlg !== sig.hashAlg)) {
    throw attestationError(
      'bad_signature',
      `signature scheme ${sig.sigAlg}/${hash} does not match the key's scheme ${algName(keyScheme)}/${algName(key.scheme.hashAlg)}`,
    );
  }
  const keyObject = publicKeyObject(key);
  let ok = false;
  if (sig.sigAlg === 'ecdsa') {
    if (key.type !== 'ecc') throw attestationError('bad_signature', 'an ECDSA signature cannot come from an RSA key');
    const size = curveName(key.curveId)!.bytes;
    const r = leftPad(sig.r, size);
    const s = leftPad(sig.s, size);
    if (r && s) {
      ok = verify(hash, data, { key: keyObject, dsaEncoding: 'ieee-p1363' }, Buffer.concat([r, s]));
    }
  } else {
    if (key.type !== 'rsa') throw attestationError('bad_signature', 'an RSA signature cannot come from an ECC key');
    const padding =
      sig.sigAlg === 'rsassa'
        ? { padding: constants.RSA_PKCS1_PADDING }
        : { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO };
    ok = verify(hash, data, { key: keyObject, ...padding }, sig.sig);
  }
  if (!ok) throw attestationError('bad_signature', 'the TPM signature does not verify with the attestation key');
  return hash;
}
