// TPM 2.0 Part 2 constants this package understands. Values are from the TCG spec (and match
// tpm2-tss's tss2_tpm2_types.h); only what attestation needs is listed.

export const TPM_ALG = {
  RSA: 0x0001,
  SHA1: 0x0004,
  HMAC: 0x0005,
  AES: 0x0006,
  KEYEDHASH: 0x0008,
  XOR: 0x000a,
  SHA256: 0x000b,
  SHA384: 0x000c,
  SHA512: 0x000d,
  NULL: 0x0010,
  RSASSA: 0x0014,
  RSAES: 0x0015,
  RSAPSS: 0x0016,
  OAEP: 0x0017,
  ECDSA: 0x0018,
  ECDH: 0x0019,
  ECDAA: 0x001a,
  SM2: 0x001b,
  ECSCHNORR: 0x001c,
  ECMQV: 0x001d,
  KDF1_SP800_56A: 0x0020,
  KDF2: 0x0021,
  KDF1_SP800_108: 0x0022,
  ECC: 0x0023,
  SYMCIPHER: 0x0025,
  CFB: 0x0043,
} as const;

export const TPM_ECC_CURVE = {
  NIST_P256: 0x0003,
  NIST_P384: 0x0004,
} as const;

/** TPMA_OBJECT bits. */
export const TPMA_OBJECT = {
  fixedTPM: 1 << 1,
  stClear: 1 << 2,
  fixedParent: 1 << 4,
  sensitiveDataOrigin: 1 << 5,
  userWithAuth: 1 << 6,
  adminWithPolicy: 1 << 7,
  noDA: 1 << 10,
  encryptedDuplication: 1 << 11,
  restricted: 1 << 16,
  decrypt: 1 << 17,
  sign: 1 << 18,
} as const;
export type ObjectAttributeName = keyof typeof TPMA_OBJECT;

export const TPM_GENERATED_VALUE = 0xff544347;

export const TPM_ST_ATTEST = {
  NV: 0x8014,
  COMMAND_AUDIT: 0x8015,
  SESSION_AUDIT: 0x8016,
  CERTIFY: 0x8017,
  QUOTE: 0x8018,
  TIME: 0x8019,
  CREATION: 0x801a,
} as const;

export type HashName = 'sha1' | 'sha256' | 'sha384' | 'sha512';

const HASHES: Record<number, { name: HashName; size: number }> = {
  [TPM_ALG.SHA1]: { name: 'sha1', size: 20 },
  [TPM_ALG.SHA256]: { name: 'sha256', size: 32 },
  [TPM_ALG.SHA384]: { name: 'sha384', size: 48 },
  [TPM_ALG.SHA512]: { name: 'sha512', size: 64 },
};

/** The node:crypto name and digest size of a TPM hash algorithm, or undefined when it is not a hash we know. */
export function hashInfo(alg: number): { name: HashName; size: number } | undefined {
  return HASHES[alg];
}

export function hashAlgId(name: HashName): number {
  for (const [id, h] of Object.entries(HASHES)) if (h.name === name) return Number(id);
  throw new Error(`unknown hash ${name}`);
}

/** For messages: `0x000b (sha256)`. */
export function algName(alg: number): string {
  const name = Object.entries(TPM_ALG).find(([, v]) => v === alg)?.[0];
  return `0x${alg.toString(16).padStart(4, '0')}${name ? ` (${name.toLowerCase()})` : ''}`;
}
