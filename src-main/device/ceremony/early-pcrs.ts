// PCR values read before the challenge: a trusted login reads the PCRs the cluster quotes (the
// boot measurements, 0-7, which do not change while the machine runs) while the password check
// is still running, so after the Login response only the quote is on the TPM's path. The values
// are sent only when the quote itself proves they are the ones it covers: a TPMS_ATTEST of a quote
// ends with TPMS_QUOTE_INFO, whose last field is the TPM2B_DIGEST of the selected PCRs' values in
// index order (SHA-256 bank, hashed with the AK's SHA-256). Anything else (another selection,
// another hash, a PCR extended meanwhile) reads the PCRs again after the quote, as before.
import { createHash } from 'node:crypto';

/** The PCRs a cluster asks a login's quote to cover (src-cluster's QUOTE_PCRS). */
export const LOGIN_QUOTE_PCRS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7];

const SHA256_SIZE = 32;

/**
 * True when `attest` (the quote's TPMS_ATTEST) ends with the SHA-256 digest of exactly `values`
 * for the PCRs `pcrs` asked for. A false answer is never an error: the caller reads the PCRs.
 */
export function quoteCoversValues(
  attest: Buffer,
  pcrs: readonly number[],
  values: ReadonlyMap<number, Buffer> | undefined,
): boolean {
  if (!values || values.size !== pcrs.length) return false;
  const hash = createHash('sha256');
  for (const index of [...pcrs].sort((a, b) => a - b)) {
    const value = values.get(index);
    if (!value || value.length !== SHA256_SIZE) return false;
    hash.update(value);
  }
  if (attest.length < 2 + SHA256_SIZE) return false;
  const sizeAt = attest.length - SHA256_SIZE - 2;
  return attest.readUInt16BE(sizeAt) === SHA256_SIZE && hash.digest().equals(attest.subarray(sizeAt + 2));
}
