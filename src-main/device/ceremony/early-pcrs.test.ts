// The quoted-digest check on made-up attestation tails; tpm/integration/tpm.test.ts runs it on
// real quotes from swtpm (unchanged PCRs pass, an extend in between fails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { LOGIN_QUOTE_PCRS, quoteCoversValues } from './early-pcrs.ts';

const value = (n: number) => Buffer.alloc(32, n);
const values = new Map(LOGIN_QUOTE_PCRS.map((i) => [i, value(i + 1)]));

/** A TPMS_ATTEST stand-in: any prefix, then TPM2B_DIGEST of the values in index order. */
function attestOver(vals: Map<number, Buffer>, size = 32): Buffer {
  const digest = createHash('sha256')
    .update(Buffer.concat([...vals.keys()].sort((a, b) => a - b).map((i) => vals.get(i)!)))
    .digest()
    .subarray(0, size);
  const sizeField = Buffer.alloc(2);
  sizeField.writeUInt16BE(size);
  return Buffer.concat([Buffer.from('prefix of the attestation'), sizeField, digest]);
}

test('the early values stand only when the quote digests exactly them', () => {
  const pcrs = [...LOGIN_QUOTE_PCRS].reverse(); // the request's order does not matter, the index order does
  assert.equal(quoteCoversValues(attestOver(values), pcrs, values), true);
  const changed = new Map(values).set(7, value(99));
  assert.equal(quoteCoversValues(attestOver(changed), pcrs, values), false, 'a PCR changed before the quote');
  assert.equal(quoteCoversValues(attestOver(values), [0, 1, 2], values), false, 'another selection');
  assert.equal(quoteCoversValues(attestOver(values), pcrs, undefined), false, 'nothing read early');
  const short = new Map(values).set(3, Buffer.alloc(20));
  assert.equal(quoteCoversValues(attestOver(short), pcrs, short), false, 'not a SHA-256 value');
  assert.equal(quoteCoversValues(attestOver(values, 20), pcrs, values), false, 'not a SHA-256 digest');
  assert.equal(quoteCoversValues(Buffer.alloc(10), pcrs, values), false, 'too short to be a quote');
});
