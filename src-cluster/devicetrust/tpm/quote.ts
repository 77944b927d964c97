// Checks a TPM2_Quote: the AK's signature over the TPMS_ATTEST, that it is a quote, that it
// answers our nonce (extraData), and, when the caller has PCR values, that they are exactly the
// values the TPM hashed. The signature is checked first so nothing from unsigned bytes is trusted.
import { createHash, timingSafeEqual } from 'node:crypto';
import { algName, hashAlgId, hashInfo, type HashName } from './constants.ts';
import { parseAttest, type QuoteAttest } from './attest.ts';
import { attestationError } from './errors.ts';
import { parsePublic, type TpmPublic } from './public.ts';
import { parseSignature, verifySignature } from './signature.ts';

export interface PcrBank {
  hash: HashName;
  /** PCR index → value (digest of the bank's size). */
  values: Map<number, Buffer>;
}

export interface VerifyQuoteInput {
  /** The AK's TPMT_PUBLIC / TPM2B_PUBLIC bytes, or the parsed key. */
  akPublic: Buffer | TpmPublic;
  /** The TPMS_ATTEST bytes the TPM signed. */
  attest: Buffer;
  /** The TPMT_SIGNATURE bytes. */
  signature: Buffer;
  /** The nonce the server issued; must equal the quote's extraData. */
  nonce: Buffer;
  /** When given, the quote must select exactly these banks/PCRs and its digest must match them. */
  pcrs?: PcrBank[];
}

export function equalBytes(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The PCR digest a TPM computes for a quote: H(values in selection order), with the signing hash. */
export function pcrDigest(hash: HashName, banks: PcrBank[]): Buffer {
  const h = createHash(hash);
  for (const bank of banks) {
    for (const index of [...bank.values.keys()].sort((a, b) => a - b)) h.update(bank.values.get(index)!);
  }
  return h.digest();
}

function checkPcrs(attest: QuoteAttest, banks: PcrBank[], signHash: HashName): void {
  const want = banks.map((b) => ({ hashAlg: hashAlgId(b.hash), pcrs: [...b.values.keys()].sort((x, y) => x - y) }));
  const same =
    want.length === attest.pcrSelect.length &&
    want.every(
      (w, i) => w.hashAlg === attest.pcrSelect[i]!.hashAlg && w.pcrs.join(',') === attest.pcrSelect[i]!.pcrs.join(','),
    );
  if (!same) {
    const show = (s: { hashAlg: number; pcrs: number[] }[]): string =>
      s.map((x) => `${hashInfo(x.hashAlg)?.name ?? algName(x.hashAlg)}:${x.pcrs.join(',')}`).join('+') || 'none';
    throw attestationError('pcr_mismatch', `the quote selects PCRs ${show(attest.pcrSelect)}, expected ${show(want)}`);
  }
  for (const bank of banks) {
    const size = hashInfo(hashAlgId(bank.hash))!.size;
    for (const [index, value] of bank.values) {
      if (value.length !== size) {
        throw attestationError('pcr_mismatch', `PCR ${bank.hash}:${index} value is ${value.length} bytes, not ${size}`);
      }
    }
  }
  if (!equalBytes(pcrDigest(signHash, banks), attest.pcrDigest)) {
    throw attestationError('pcr_mismatch', 'the PCR values do not match the digest the TPM quoted');
  }
}

/** Verifies a quote; returns the parsed attestation (clock, firmware, selection) for further policy. */
export function verifyQuote(input: VerifyQuoteInput): QuoteAttest {
  const ak = Buffer.isBuffer(input.akPublic) ? parsePublic(input.akPublic) : input.akPublic;
  const sig = parseSignature(input.signature);
  const attest = parseAttest(input.attest);
  const signHash = verifySignature(ak, input.attest, sig);
  if (attest.type !== 'quote') {
    throw attestationError('wrong_attestation_type', `expected a quote attestation, got a ${attest.type} attestation`);
  }
  if (!equalBytes(attest.extraData, input.nonce)) {
    throw attestationError('nonce_mismatch', 'the quote does not answer this nonce (replayed or stale quote)');
  }
  if (input.pcrs) checkPcrs(attest, input.pcrs, signHash);
  return attest;
}
