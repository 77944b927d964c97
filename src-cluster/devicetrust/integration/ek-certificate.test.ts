// The EK certificate swtpm_setup wrote into NV (signed by the harness's local CA, an intermediate
// under its root) against the cluster's EK CA list, as enrollment checks it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../../src-shared/errors.ts';
import { startSwtpm, type Swtpm } from '../../../test-support/swtpm.ts';
import { checkEkCertificate } from '../tpm/ek-certificate.ts';
import { parsePublic } from '../tpm/public.ts';
import { startTpmFixture, type TpmFixture } from './tpm-fixture.ts';
import { tpm2 } from './tpm2-tools.ts';

let f: TpmFixture;
let other: Swtpm;
let ekCertDer: Buffer;

before(async () => {
  f = await startTpmFixture();
  other = await startSwtpm();
  const file = join(f.dir, 'ek-cert.der');
  tpm2(f.tpm, 'nvread', ['0x01c00002', '-o', file]);
  ekCertDer = readFileSync(file);
});
after(async () => {
  await f?.close();
  await other?.stop();
});

function rejects(fn: () => unknown, reason: string): void {
  assert.throws(fn, (e: unknown) => {
    const err = e as { code?: string; details?: { reason?: string }; message?: string };
    assert.equal(err.code, ErrorCode.DEVICE_ATTESTATION_FAILED, err.message);
    assert.equal(err.details?.reason, reason, err.message);
    return true;
  });
}

test('without a CA list the EK cert is recorded as ekcert', () => {
  const r = checkEkCertificate({ ekCertDer, ekPublic: parsePublic(f.ekRsa.pub) });
  assert.equal(r.attestationType, 'ekcert');
  assert.match(r.serial, /^[0-9a-f]+$/);
});

test('an EK cert issued by an allowed CA, directly or through an intermediate, is ekcert_trusted', () => {
  const ekPublic = parsePublic(f.ekRsa.pub);
  assert.equal(
    checkEkCertificate({ ekCertDer, ekPublic, allowedCas: [f.tpm.ekCaCertPem] }).attestationType,
    'ekcert_trusted',
  );
  const viaRoot = checkEkCertificate({
    ekCertDer,
    ekPublic,
    allowedCas: [other.rootCaCertPem, f.tpm.rootCaCertPem],
    intermediates: [f.tpm.ekCaCertPem],
  });
  assert.equal(viaRoot.attestationType, 'ekcert_trusted');
});

test('an EK cert from a CA not on the list is rejected', () => {
  const ekPublic = parsePublic(f.ekRsa.pub);
  rejects(
    () => checkEkCertificate({ ekCertDer, ekPublic, allowedCas: [other.ekCaCertPem, other.rootCaCertPem] }),
    'untrusted_ek_cert',
  );
  // Not yet valid (certificates are issued when the test starts).
  rejects(
    () =>
      checkEkCertificate({
        ekCertDer,
        ekPublic,
        allowedCas: [f.tpm.ekCaCertPem],
        now: new Date('2000-01-01T00:00:00Z'),
      }),
    'untrusted_ek_cert',
  );
  // The root alone is not enough without the intermediate that links the EK cert to it.
  rejects(() => checkEkCertificate({ ekCertDer, ekPublic, allowedCas: [f.tpm.rootCaCertPem] }), 'untrusted_ek_cert');
  // Another TPM's intermediate does not link this cert to the root.
  rejects(
    () =>
      checkEkCertificate({
        ekCertDer,
        ekPublic,
        allowedCas: [f.tpm.rootCaCertPem],
        intermediates: [other.ekCaCertPem],
      }),
    'untrusted_ek_cert',
  );
});

test("an EK public key that is not the certificate's key is rejected", () => {
  rejects(() => checkEkCertificate({ ekCertDer, ekPublic: parsePublic(f.ekEcc.pub) }), 'ek_mismatch');
  rejects(
    () => checkEkCertificate({ ekCertDer, ekPublic: parsePublic(f.akRsa.pub), allowedCas: [f.tpm.ekCaCertPem] }),
    'ek_mismatch',
  );
  rejects(
    () => checkEkCertificate({ ekCertDer: ekCertDer.subarray(0, 100), ekPublic: parsePublic(f.ekRsa.pub) }),
    'malformed',
  );
});
