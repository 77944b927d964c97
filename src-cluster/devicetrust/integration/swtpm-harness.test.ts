// The swtpm harness must hand out a TPM that tpm2-tools can talk to, whose EK certificate chains
// to the CA the harness reports: every device-trust test builds on these two facts.
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSwtpm, type Swtpm } from '../../../test-support/swtpm.ts';
import { tpm2 } from './tpm2-tools.ts';

let tpm: Swtpm;
let work: string;
before(async () => {
  tpm = await startSwtpm();
  work = mkdtempSync(join(tmpdir(), 'gatehouse-swtpm-test-'));
});
after(async () => {
  await tpm?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

test('tpm2-tools reach the swtpm over its TCP TCTI', () => {
  assert.match(tpm.tcti, /^swtpm:host=127\.0\.0\.1,port=\d+$/);
  const out = tpm2(tpm, 'getcap', ['properties-fixed']);
  assert.match(out, /TPM2_PT_FAMILY_INDICATOR:[\s\S]*value: "2\.0"/);
});

test('the RSA EK certificate in NV chains to the harness CA, and not to a second instance', async () => {
  const der = join(work, 'ek.der');
  tpm2(tpm, 'nvread', ['0x01c00002', '-o', der]);
  const ekCert = new X509Certificate(readFileSync(der));
  const ca = new X509Certificate(tpm.ekCaCertPem);
  const root = new X509Certificate(tpm.rootCaCertPem);
  assert.ok(ekCert.checkIssued(ca), `EK cert issuer ${ekCert.issuer} vs CA ${ca.subject}`);
  assert.ok(ekCert.verify(ca.publicKey), 'EK cert signature does not verify with the local CA key');
  assert.ok(ca.verify(root.publicKey), 'local CA is not signed by the root');
  assert.equal(ekCert.publicKey.asymmetricKeyType, 'rsa');

  // A second harness has its own CA: the first TPM's EK cert must not verify under it.
  const other = await startSwtpm();
  try {
    assert.notEqual(other.ekCaCertPem, tpm.ekCaCertPem);
    assert.equal(ekCert.verify(new X509Certificate(other.ekCaCertPem).publicKey), false);
  } finally {
    await other.stop();
  }
});

test('stop() ends swtpm and removes its dir', async () => {
  const t = await startSwtpm();
  await t.stop();
  assert.throws(() => readFileSync(join(t.stateDir, 'tpm2-00.permall')), /ENOENT/);
  assert.throws(() => tpm2(t, 'getcap', ['properties-fixed']), /failed/);
});
