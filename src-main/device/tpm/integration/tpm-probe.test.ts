// The TPM probe as "This device" and `gate device diagnose` run it (defaultDeviceAgent), against
// a real TPM 2.0 implementation (swtpm): manufacturer, vendor and firmware from the native
// getInfo() cross-checked with tpm2_getcap; a TCTI naming a device file that does not exist is
// "missing". An unreadable device node cannot be staged here (tests run as root, and root opens
// a mode-0000 node), so "no-permission" is covered at the unit level (core/tpm-probe.test.ts).
// Needs the addon built and swtpm + tpm2-tools; fails with that reason otherwise.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSwtpm, type Swtpm } from '../../../../test-support/swtpm.ts';
import { ErrorCode } from '../../../../src-shared/errors.ts';
import { defaultDeviceAgent } from '../../../core/device-trust.ts';
import { TpmClient } from '../tpm-client.ts';

/** The raw UINT32 of one property in tpm2_getcap properties-fixed's output. */
function getcapRaw(text: string, property: string): number {
  const m = new RegExp(`^${property}:\\n\\s+raw: (0x[0-9A-Fa-f]+|0)$`, 'm').exec(text);
  assert.ok(m, `${property} in tpm2_getcap's output`);
  return Number(m[1]);
}

/** Four big-endian ASCII bytes, NULs dropped and trailing spaces trimmed (TPM_PT_MANUFACTURER style). */
function ascii4(v: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b.toString('latin1').replace(/\0/g, '').replace(/ +$/, '');
}

describe('TPM probe (swtpm)', () => {
  let tpm: Swtpm;
  let deviceHome: string;
  before(async () => {
    tpm = await startSwtpm();
    deviceHome = mkdtempSync(join(tmpdir(), 'gatehouse-probe-'));
  });
  after(async () => {
    await tpm?.stop();
    if (deviceHome) rmSync(deviceHome, { recursive: true, force: true });
  });

  it('a working TPM is present, with the facts tpm2_getcap reports and the EK certificate', async () => {
    const agent = defaultDeviceAgent({ deviceHome, env: { GATEHOUSE_TPM_TCTI: tpm.tcti } });
    const p = await agent.probeTpm!();
    assert.equal(p.state, 'present', JSON.stringify(p));
    assert.equal(p.tcti, tpm.tcti);
    assert.equal(p.manufacturer, 'IBM', 'swtpm reports the manufacturer IBM');
    assert.equal(p.ekCertificate, true, 'swtpm_setup --create-ek-cert put one in NV');
    assert.match(p.firmwareVersion!, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal(p.credentialId, undefined, 'no AK yet: the probe does not make one');

    const getcap = spawnSync('tpm2_getcap', ['properties-fixed'], { env: tpm.env, encoding: 'utf8' });
    assert.equal(getcap.status, 0, getcap.stderr);
    const raw = (p: string) => getcapRaw(getcap.stdout, p);
    assert.equal(ascii4(raw('TPM2_PT_MANUFACTURER')), p.manufacturer);
    assert.equal(['1', '2', '3', '4'].map((i) => ascii4(raw(`TPM2_PT_VENDOR_STRING_${i}`))).join(''), p.vendor);
    assert.equal(p.vendor, 'SW TPM');
    const [fw1, fw2] = [raw('TPM2_PT_FIRMWARE_VERSION_1'), raw('TPM2_PT_FIRMWARE_VERSION_2')];
    assert.equal(p.firmwareVersion, `${fw1 >>> 16}.${fw1 & 0xffff}.${fw2 >>> 16}.${fw2 & 0xffff}`);

    // Once the device has an AK, the probe reports its credential id (from the stored blob).
    const client = await TpmClient.open({ tcti: tpm.tcti, cacheDir: deviceHome });
    await client.attestationKey();
    assert.deepEqual(await client.info(), {
      manufacturer: p.manufacturer,
      vendor: p.vendor,
      firmwareVersion: p.firmwareVersion,
    });
    await client.close();
    const again = await agent.probeTpm!();
    assert.match(again.credentialId ?? '', /^[0-9a-f]{64}$/);
  });

  it('a device TCTI whose device file does not exist is "missing", with the firmware hint', async () => {
    const agent = defaultDeviceAgent({
      deviceHome,
      env: { GATEHOUSE_TPM_TCTI: `device:${join(deviceHome, 'tpmrm9')}` },
    });
    const p = await agent.probeTpm!();
    assert.equal(p.state, 'missing', JSON.stringify(p));
    assert.equal(p.code, ErrorCode.TPM_UNAVAILABLE);
    assert.match(
      p.reason!,
      /tpmrm9 does not exist: this computer has no TPM 2\.0, or it is off in the firmware settings/,
    );
  });

  it('a TPM that does not answer is an error naming the TCTI', async () => {
    const agent = defaultDeviceAgent({ deviceHome, env: { GATEHOUSE_TPM_TCTI: 'swtpm:host=127.0.0.1,port=9' } });
    const p = await agent.probeTpm!();
    assert.equal(p.state, 'error', JSON.stringify(p));
    assert.match(p.fix!, /swtpm:host=127\.0\.0\.1,port=9/);
  });
});
