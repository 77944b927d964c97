// The attestation policy decision on its own: which stored evidence each policy accepts, the
// reason and short flag when it does not, and the required-mode warning. The ceremonies and
// `gatectl devices ls` call exactly this (see security/ and integration/ for them end to end).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceCredential } from '../resources/device.ts';
import { ekpubRiskWarning, policyFailure, type AttestationPolicy } from './attestation-policy.ts';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);
const ekpub: DeviceCredential = {
  id: 'c'.repeat(64),
  public_key: 'AAAA',
  attestation_type: 'ekpub',
  ek_key_hash: HASH_A,
};
const DEFAULT: AttestationPolicy = { ekpubAllowed: true, ekCertAllowedCas: [] };
const NO_EKPUB: AttestationPolicy = { ekpubAllowed: false, ekCertAllowedCas: [] };
// Any well-formed CA will do for "a CA list is set": the credential below has no EK cert at all.
const SOME_CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('the default policy accepts an EK-public-only device (Teleport compatibility)', () => {
  assert.equal(policyFailure({ credential: ekpub }, DEFAULT), undefined);
});

test('ekpub_allowed: false refuses EK-public-only evidence, naming the setting and the ways out', () => {
  const f = policyFailure({ credential: ekpub }, NO_EKPUB);
  assert.equal(f?.reason, 'ekpub_not_allowed');
  assert.equal(f?.short, 'ekpub not allowed');
  assert.match(f.message, /device_trust\.ekpub_allowed: false/);
  assert.match(f.message, /--ek-key-hash/);
  // An EK certificate no allowed CA checked is no better: anyone can make one.
  const selfMadeCert = { ...ekpub, attestation_type: 'ekcert' as const, ek_cert: 'AAAA' };
  assert.equal(policyFailure({ credential: selfMadeCert }, NO_EKPUB)?.reason, 'ekpub_not_allowed');
});

test('an admin binding accepts only its own EK, under any ekpub_allowed', () => {
  assert.equal(policyFailure({ credential: ekpub, boundEkKeyHash: HASH_A }, DEFAULT), undefined);
  assert.equal(policyFailure({ credential: ekpub, boundEkKeyHash: HASH_A }, NO_EKPUB), undefined);
  const f = policyFailure({ credential: ekpub, boundEkKeyHash: HASH_B }, DEFAULT);
  assert.equal(f?.reason, 'ek_key_mismatch');
  assert.equal(f.short, 'ek key mismatch');
  assert.ok(f.message.includes(HASH_B) && f.message.includes(HASH_A), f.message);
  // A credential stored before EK key hashes were recorded cannot prove the binding: refused.
  const { ek_key_hash: _dropped, ...legacy } = ekpub;
  assert.match(policyFailure({ credential: legacy, boundEkKeyHash: HASH_A }, DEFAULT)!.message, /enroll again/);
});

test('ekcert_allowed_cas set: a device enrolled without an EK certificate fails with "ekcert required"', () => {
  const f = policyFailure(
    { credential: ekpub, boundEkKeyHash: HASH_A },
    { ekpubAllowed: true, ekCertAllowedCas: [SOME_CA] },
  );
  assert.equal(f?.reason, 'ekcert_required');
  assert.equal(f.short, 'ekcert required');
  assert.match(f.message, /ekcert_allowed_cas\), and this device enrolled without one$/);
  // An ekcert device enrolled before EK certificates were kept: cannot be re-checked, fail closed.
  const legacy = { ...ekpub, attestation_type: 'ekcert_trusted' as const };
  const g = policyFailure({ credential: legacy }, { ekpubAllowed: true, ekCertAllowedCas: [SOME_CA] });
  assert.equal(g?.reason, 'ekcert_required');
  assert.match(g.message, /enroll it again$/);
});

test('the warning: required modes with EK-public-only enrollment allowed, in one sentence', () => {
  const dt = { mode: 'required' as const, ekpub_allowed: true, ekcert_allowed_cas: [] };
  const w = ekpubRiskWarning(dt);
  assert.ok(w);
  assert.match(
    w,
    /^device trust mode is required while EK-public-only enrollment is allowed, so a machine with no TPM can enroll with software keys and pass as a trusted device/,
  );
  assert.equal(w.split('. ').length, 1, 'one sentence');
  assert.match(ekpubRiskWarning({ ...dt, mode: 'required-for-humans' })!, /mode is required-for-humans/);
  assert.equal(ekpubRiskWarning({ ...dt, mode: 'optional' }), undefined);
  assert.equal(ekpubRiskWarning({ ...dt, ekpub_allowed: false }), undefined);
  assert.equal(ekpubRiskWarning({ ...dt, ekcert_allowed_cas: [SOME_CA] }), undefined);
});
