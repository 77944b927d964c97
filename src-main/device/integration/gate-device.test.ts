// `gate device keyget` and `gate device collect` as a user runs them: the real CLI binary against
// a throwaway swtpm (needs the addon built and swtpm/tpm2-tools installed; fails with that
// reason otherwise) and against this machine's own files.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliSourceArgv } from '../../../test-support/cli-source.ts';
import { startSwtpm, type Swtpm } from '../../../test-support/swtpm.ts';

function gate(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, cliSourceArgv('gate', args), {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('gate device (swtpm)', () => {
  let tpm: Swtpm;
  let home: string;
  before(async () => {
    tpm = await startSwtpm();
    home = mkdtempSync(join(tmpdir(), 'gatehouse-gate-device-'));
  });
  after(async () => {
    await tpm?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('keyget prints a stable credential id: the AK blob is created once and reused', () => {
    const env = { GATEHOUSE_TPM_TCTI: tpm.tcti, GATEHOUSE_HOME: home };
    const first = gate(['device', 'keyget', '--format', 'json'], env);
    assert.equal(first.status, 0, first.stderr);
    const k1 = JSON.parse(first.stdout);
    assert.match(k1.credential_id, /^[0-9a-f]{64}$/);
    assert.equal(k1.tcti, tpm.tcti);

    const blobPath = join(home, 'device', 'tpm-ak.json');
    assert.equal(statSync(blobPath).mode & 0o777, 0o600);
    const blob = JSON.parse(readFileSync(blobPath, 'utf8'));
    const tpm2bPublic = Buffer.from(blob.public, 'base64');
    // Recomputed here from the stored TPM2B_PUBLIC, independently of src-shared.
    assert.equal(k1.credential_id, createHash('sha256').update(tpm2bPublic.subarray(2)).digest('hex'));
    const mtime = statSync(blobPath).mtimeMs;

    const second = gate(['device', 'keyget', '--format', 'json'], env);
    assert.equal(second.status, 0, second.stderr);
    const k2 = JSON.parse(second.stdout);
    assert.equal(k2.credential_id, k1.credential_id, 'same AK on the second run');
    assert.equal(statSync(blobPath).mtimeMs, mtime, 'the AK blob was not rewritten');
    assert.equal(second.stderr, '', 'no AK-recreated notice');

    assert.ok(['RSA', 'ECC'].includes(k1.ak.algorithm));
    for (const a of ['fixedTPM', 'fixedParent', 'sensitiveDataOrigin', 'restricted', 'sign']) {
      assert.ok(k1.ak.attributes.includes(a), `AK has ${a}: ${k1.ak.attributes}`);
    }
    assert.match(k1.ak.public_key_pem, /^-----BEGIN PUBLIC KEY-----/);
    assert.equal(k1.ek_certificate.present, true, 'swtpm_setup --create-ek-cert put an EK cert in NV');
    assert.equal(k1.ek_certificate.issuer, new X509Certificate(tpm.ekCaCertPem).subject);
    assert.match(k1.ek_certificate.serial, /^[0-9a-f]+$/);

    // The EK key hash is the SHA-256 of the EK's DER SubjectPublicKeyInfo: recomputed here from the
    // EK certificate tpm2_nvread takes out of the TPM (the key the certificate certifies).
    const nv = spawnSync('tpm2_nvread', ['0x01c00002'], { env: tpm.env });
    assert.equal(nv.status, 0, String(nv.stderr));
    const spki = new X509Certificate(nv.stdout).publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(k1.ek_key_hash, createHash('sha256').update(spki).digest('hex'));

    const text = gate(['device', 'keyget'], env);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^Credential ID: +${k1.credential_id}$`, 'm'));
    assert.match(text.stdout, new RegExp(`^EK key hash: +${k1.ek_key_hash}$`, 'm'));
    assert.match(text.stdout, new RegExp(`^EK certificate: +yes \\(serial ${k1.ek_certificate.serial}`, 'm'));
  });

  it('keyget without a reachable TPM fails with a TPM exit code and message', () => {
    const r = gate(['device', 'keyget'], { GATEHOUSE_TPM_TCTI: 'device:/nonexistent/tpmrm0', GATEHOUSE_HOME: home });
    assert.equal(r.status, 7, r.stderr);
    assert.match(r.stderr, /^ERROR: .*tpmrm0/m);
  });
});

describe('gate device collect / asset-tag on this machine', () => {
  it('reports a machine-id serial (no DMI here) and os_id debian', () => {
    const r = gate(['device', 'collect'], {});
    assert.equal(r.status, 0, r.stderr);
    const d = JSON.parse(r.stdout);
    assert.equal(d.os_type, 'linux');
    assert.equal(d.os_id, 'debian');
    assert.equal(d.serial_source, 'machine-id', 'these build VMs have no /sys/class/dmi');
    const machineId = readFileSync('/etc/machine-id', 'utf8').trim();
    const expected = `machine-id:${createHash('sha256').update(machineId).digest('hex').slice(0, 16)}`;
    assert.equal(d.serial_number, expected);
    assert.match(d.serial_note, /no DMI data/);
    assert.ok(!Number.isNaN(Date.parse(d.collect_time)));

    const tag = gate(['device', 'asset-tag'], {});
    assert.equal(tag.status, 0, tag.stderr);
    assert.equal(tag.stdout, expected + '\n');
    assert.match(tag.stderr, /^source: machine-id/);
  });
});
