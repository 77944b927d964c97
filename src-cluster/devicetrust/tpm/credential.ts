// TPM2_MakeCredential in software (TPM 2.0 Part 1 §24, Part 3 §12.6, Annex B.10.4 / C.6.4). The
// server encrypts a random secret so that only the TPM holding the EK can recover it, and only for
// an object whose Name is akName (TPM2_ActivateCredential checks the HMAC over the Name). That ties
// the AK to the EK without the server ever trusting the client's word.
import { constants, createCipheriv, createECDH, createHash, createHmac, publicEncrypt, randomBytes } from 'node:crypto';
import { TPM_ALG, algName, hashInfo, type HashName } from './constants.ts';
import { attestationError } from './errors.ts';
import { curveName, publicKeyObject, parsePublic, type TpmPublic } from './public.ts';
import { tpm2b, u32 } from './reader.ts';

/** `label` as the KDFs want it: the ASCII text with its terminating NUL (Part 1 §11.4.10.4). */
function labelBytes(label: string): Buffer {
  return Buffer.from(label.endsWith('\0') ? label : `${label}\0`, 'ascii');
}

/** KDFa (SP 800-108 counter mode with HMAC), Part 1 §11.4.10.2. */
export function kdfa(
  hash: HashName,
  key: Buffer,
  label: string,
  contextU: Buffer,
  contextV: Buffer,
  bits: number,
): Buffer {
  const bytes = Math.ceil(bits / 8);
  const out: Buffer[] = [];
  let have = 0;
  for (let counter = 1; have < bytes; counter++) {
    const block = createHmac(hash, key)
      .update(u32(counter))
      .update(labelBytes(label))
      .update(contextU)
      .update(contextV)
      .update(u32(bits))
      .digest();
    out.push(block);
    have += block.length;
  }
  const result = Buffer.concat(out).subarray(0, bytes);
  if (bits % 8) result[0]! &= (1 << (bits % 8)) - 1;
  return result;
}

/** KDFe (SP 800-56A concatenation KDF), Part 1 §11.4.10.3. */
export function kdfe(hash: HashName, z: Buffer, label: string, partyU: Buffer, partyV: Buffer, bits: number): Buffer {
  const bytes = Math.ceil(bits / 8);
  const out: Buffer[] = [];
  let have = 0;
  for (let counter = 1; have < bytes; counter++) {
    const block = createHash(hash)
      .update(u32(counter))
      .update(z)
      .update(labelBytes(label))
      .update(partyU)
      .update(partyV)
      .digest();
    out.push(block);
    have += block.length;
  }
  const result = Buffer.concat(out).subarray(0, bytes);
  if (bits % 8) result[0]! &= (1 << (bits % 8)) - 1;
  return result;
}

export interface Credential {
  /** TPM2B_ID_OBJECT: integrity HMAC ‖ encrypted credential, with its size prefix. */
  credentialBlob: Buffer;
  /** TPM2B_ENCRYPTED_SECRET: the seed, encrypted to the EK, with its size prefix. */
  encryptedSecret: Buffer;
}

/** Makes a seed and its encryption to the EK: RSA-OAEP, or ECDH with an ephemeral key then KDFe. */
function protectSeed(ek: TpmPublic, hash: HashName, digestSize: number): { seed: Buffer; secret: Buffer } {
  if (ek.type === 'rsa') {
    const seed = randomBytes(digestSize);
    const secret = publicEncrypt(
      {
        key: publicKeyObject(ek),
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: hash,
        oaepLabel: labelBytes('IDENTITY'),
      },
      seed,
    );
    return { seed, secret };
  }
  const curve = curveName(ek.curveId);
  if (!curve) throw attestationError('unsupported_algorithm', `EK curve 0x${ek.curveId.toString(16)} is not supported`);
  const pad = (b: Buffer): Buffer => Buffer.concat([Buffer.alloc(Math.max(0, curve.bytes - b.length)), b]);
  const ecdh = createECDH(curve.node);
  const ephemeral = ecdh.generateKeys();
  const ekPoint = Buffer.concat([Buffer.from([4]), pad(ek.x), pad(ek.y)]);
  let z: Buffer;
  try {
    z = ecdh.computeSecret(ekPoint);
  } catch (e) {
    throw attestationError('malformed', `the EK's ECC point is not on its curve: ${(e as Error).message}`);
  }
  const ex = ephemeral.subarray(1, 1 + curve.bytes);
  const ey = ephemeral.subarray(1 + curve.bytes);
  const seed = kdfe(hash, z, 'IDENTITY', ex, pad(ek.x), digestSize * 8);
  // TPM2B_ENCRYPTED_SECRET of an ECC key holds a marshalled TPMS_ECC_POINT: the ephemeral public key.
  return { seed, secret: Buffer.concat([tpm2b(ex), tpm2b(ey)]) };
}

/**
 * MakeCredential for `secret` (at most the EK nameAlg's digest size), to be activated with the
 * EK `ekPublic` (TPMT_PUBLIC or TPM2B_PUBLIC bytes, RSA or ECC) for the object named `akName`.
 */
export function makeCredential(ekPublic: Buffer | TpmPublic, akName: Buffer, secret: Buffer): Credential {
  const ek = Buffer.isBuffer(ekPublic) ? parsePublic(ekPublic) : ekPublic;
  const h = hashInfo(ek.nameAlg);
  if (!h) throw attestationError('unsupported_algorithm', `EK nameAlg ${algName(ek.nameAlg)} is not supported`);
  if (ek.symmetric.algorithm !== TPM_ALG.AES || ek.symmetric.mode !== TPM_ALG.CFB) {
    throw attestationError(
      'unsupported_algorithm',
      `EK symmetric ${algName(ek.symmetric.algorithm)}/${algName(ek.symmetric.mode)} is not AES-CFB: not a storage (EK) key`,
    );
  }
  if (ek.symmetric.keyBits !== 128 && ek.symmetric.keyBits !== 256) {
    throw attestationError('unsupported_algorithm', `EK AES key size ${ek.symmetric.keyBits} is not supported`);
  }
  if (secret.length === 0 || secret.length > h.size) {
    throw new RangeError(`credential secret must be 1..${h.size} bytes, got ${secret.length}`);
  }
  const { seed, secret: encryptedSeed } = protectSeed(ek, h.name, h.size);
  const symKey = kdfa(h.name, seed, 'STORAGE', akName, Buffer.alloc(0), ek.symmetric.keyBits);
  const cipher = createCipheriv(`aes-${ek.symmetric.keyBits}-cfb`, symKey, Buffer.alloc(16));
  const encIdentity = Buffer.concat([cipher.update(tpm2b(secret)), cipher.final()]);
  const hmacKey = kdfa(h.name, seed, 'INTEGRITY', Buffer.alloc(0), Buffer.alloc(0), h.size * 8);
  const outerHmac = createHmac(h.name, hmacKey).update(encIdentity).update(akName).digest();
  return {
    credentialBlob: tpm2b(Buffer.concat([tpm2b(outerHmac), encIdentity])),
    encryptedSecret: tpm2b(encryptedSeed),
  };
}
