// The TPM addon and TpmClient against a real TPM 2.0 implementation (swtpm), cross-checked with
// node:crypto and tpm2-tools. Needs the addon built (node scripts/build-native.mjs) and the
// Debian packages swtpm swtpm-tools tpm2-tools libtss2-dev; fails with that reason otherwise.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, verify, X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSwtpm, type Swtpm } from '../../../../test-support/swtpm.ts';
import { ErrorCode, GatehouseError } from '../../../../src-shared/errors.ts';
import { loadTpmAddon, type TpmAddon } from '../addon.ts';
import { akBlobPath } from '../ak-store.ts';
import { TpmClient } from '../tpm-client.ts';
import { LOGIN_QUOTE_PCRS, quoteCoversValues } from '../../ceremony/early-pcrs.ts';
// Test-only: checks that the cluster's own TPMS_ATTEST parser reads what this client's TPM signs.
import { parseQuoteAttest, parseRsaPublic, publicArea, rsassaSignature, tpm2, verifyQuote } from './tpm-structures.ts';

const EK_POLICY = '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa';
const TPMA = { fixedTPM: 0x2, fixedParent: 0x10, sensitiveDataOrigin: 0x20, restricted: 0x10000, sign: 0x40000 };

describe('TPM addon and TpmClient (swtpm)', () => {
  let addon: TpmAddon;
  let tpm: Swtpm;
  let work: string;
  const open = (cacheDir: string, notices: string[] = []) =>
    TpmClient.open({ tcti: tpm.tcti, cacheDir, addon, onNotice: (m) => notices.push(m) });
  const openRaw = async () => {
    const raw = new addon.Tpm(tpm.tcti);
    await raw.open();
    return raw;
  };

  before(async () => {
    addon = loadTpmAddon();
    tpm = await startSwtpm();
    work = mkdtempSync(join(tmpdir(), 'gatehouse-tpm-test-'));
  });
  after(async () => {
    await tpm?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('reads the EK certificate (X.509 from the swtpm CA) and the EK public key it certifies', async () => {
    const client = await open(join(work, 'ek'));
    try {
      const der = await client.ekCertificate();
      assert.ok(der, 'swtpm_setup --create-ek-cert stores an EK certificate');
      const cert = new X509Certificate(der);
      assert.ok(cert.verify(new X509Certificate(tpm.ekCaCertPem).publicKey), 'EK cert is signed by the swtpm CA');
      const ek = parseRsaPublic(await client.ekPublic());
      assert.equal(ek.keyBits, 2048);
      assert.equal(ek.authPolicy.toString('hex'), EK_POLICY);
      assert.ok(ek.attributes & TPMA.restricted && ek.attributes & TPMA.fixedTPM);
      const certKey = cert.publicKey.export({ format: 'jwk' });
      assert.equal(ek.key.export({ format: 'jwk' }).n, certKey.n, 'EK public matches the certified key');
    } finally {
      await client.close();
    }
  });

  it('creates an AK, keeps its blob 0600 and reloads it in a later session', async () => {
    const cacheDir = join(work, 'ak');
    const first = await open(cacheDir);
    const ak = await first.attestationKey();
    await first.close();
    assert.equal(statSync(akBlobPath(cacheDir)).mode & 0o777, 0o600);
    const area = parseRsaPublic(publicArea(ak.public));
    for (const [name, bit] of Object.entries(TPMA)) assert.ok(area.attributes & bit, `AK has ${name}`);
    assert.equal(area.keyBits, 2048);
    // CertifyCreation: signed by the AK over the creation of the AK itself.
    assert.ok(verify('sha256', ak.creationAttest, area.key, rsassaSignature(ak.creationSignature)));
    assert.equal(ak.creationAttest.readUInt16BE(4), 0x801a, 'TPM_ST_ATTEST_CREATION');

    const notices: string[] = [];
    const second = await open(cacheDir, notices);
    try {
      assert.deepEqual((await second.attestationKey()).public, ak.public, 'same AK after reload');
      const nonce = randomBytes(32);
      verifyQuote(ak.public, await second.quote(nonce, [0, 1, 2]), nonce);
      assert.deepEqual(notices, []);
    } finally {
      await second.close();
    }
  });

  it('quotes PCRs: signature, nonce and PCR digest match tpm2_pcrread', async () => {
    const client = await open(join(work, 'quote'));
    try {
      const ak = await client.attestationKey();
      const nonce = randomBytes(20);
      const attest = verifyQuote(ak.public, await client.quote(nonce, [0, 7, 16]), nonce);
      assert.deepEqual(attest.pcrSelect, [{ hash: 0x000b, select: Buffer.from([0x81, 0x00, 0x01]) }]);
      const pcrFile = join(work, 'pcrs.bin');
      tpm2('pcrread', ['sha256:0,7,16', '-o', pcrFile], tpm.env);
      assert.deepEqual(attest.pcrDigest, createHash('sha256').update(readFileSync(pcrFile)).digest());
      // A wrong nonce must not pass the same checks.
      const again = await client.quote(nonce, [0]);
      assert.throws(() => verifyQuote(ak.public, again, randomBytes(20)));
    } finally {
      await client.close();
    }
  });

  it('activates a credential made by tpm2_makecredential for this EK and AK', async () => {
    const client = await open(join(work, 'activate'));
    try {
      const ak = await client.attestationKey();
      const ekFile = join(work, 'ek.pub');
      const ekPublic = await client.ekPublic();
      const size = Buffer.alloc(2);
      size.writeUInt16BE(ekPublic.length);
      writeFileSync(ekFile, Buffer.concat([size, ekPublic]));
      const akName = Buffer.concat([
        Buffer.from([0x00, 0x0b]),
        createHash('sha256').update(publicArea(ak.public)).digest(),
      ]);
      const secret = randomBytes(32);
      const secretFile = join(work, 'secret.bin');
      const credFile = join(work, 'cred.out');
      writeFileSync(secretFile, secret);
      tpm2('makecredential', [
        '-T',
        'none',
        '-u',
        ekFile,
        '-s',
        secretFile,
        '-n',
        akName.toString('hex'),
        '-o',
        credFile,
      ]);
      // tpm2-tools file: magic 0xBADCC0DE, version, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET.
      const file = readFileSync(credFile);
      assert.equal(file.readUInt32BE(0), 0xbadcc0de);
      let off = 8;
      const idLen = file.readUInt16BE(off);
      const credentialBlob = file.subarray(off + 2, off + 2 + idLen);
      off += 2 + idLen;
      const secLen = file.readUInt16BE(off);
      const encryptedSecret = file.subarray(off + 2, off + 2 + secLen);
      assert.equal(off + 2 + secLen, file.length);
      assert.deepEqual(await client.activateCredential(credentialBlob, encryptedSecret), secret);
      // Tampered blob: the TPM's integrity check refuses it.
      const bad = Buffer.from(credentialBlob);
      bad[bad.length - 1]! ^= 0xff;
      await assert.rejects(
        client.activateCredential(bad, encryptedSecret),
        (e: unknown) => e instanceof GatehouseError,
      );
    } finally {
      await client.close();
    }
  });

  it('20 quote cycles in a row leak no handles (no 0x902 without a resource manager)', async () => {
    const cacheDir = join(work, 'cycles');
    for (let i = 0; i < 20; i++) {
      const client = await open(cacheDir);
      try {
        const nonce = randomBytes(16);
        verifyQuote((await client.attestationKey()).public, await client.quote(nonce, [0]), nonce);
      } finally {
        await client.close();
      }
    }
    // Raw addon: load/quote/flush and EK creation 20 times on one connection.
    const raw = await openRaw();
    try {
      const ak = await raw.createAk();
      for (let i = 0; i < 20; i++) {
        const h = await raw.loadAk(ak.public, ak.private);
        await raw.quote(h, Buffer.from('n'), [0]);
        await raw.flush(h);
        await raw.ekPublic();
      }
    } finally {
      await raw.close();
    }
  });

  it('PCR values read before a quote are sent only while the quote covers them (early-pcrs.ts)', async () => {
    const client = await open(join(work, 'early-pcrs'));
    try {
      await client.attestationKey();
      const pcrs = [...LOGIN_QUOTE_PCRS, 16];
      const early = await client.readPcrs(pcrs);
      const first = await client.quote(randomBytes(32), pcrs);
      assert.equal(quoteCoversValues(first.attest, pcrs, early), true, 'unchanged PCRs: the early values stand');
      assert.equal(quoteCoversValues(first.attest, [...LOGIN_QUOTE_PCRS], early), false, 'another selection');
      // A PCR extended between the early read and the quote: the values must be read again.
      tpm2('pcrextend', [`16:sha256=${'cd'.repeat(32)}`], tpm.env);
      const second = await client.quote(randomBytes(32), pcrs);
      assert.equal(quoteCoversValues(second.attest, pcrs, early), false);
      assert.equal(quoteCoversValues(second.attest, pcrs, await client.readPcrs(pcrs)), true);
    } finally {
      await client.close();
    }
  });

  it('readPcrs values digest to the pcrDigest of a quote over the same PCRs', async () => {
    const client = await open(join(work, 'pcrs'));
    try {
      // More than 8 PCRs: one TPM2_PCR_Read returns at most 8, so this needs the read loop.
      const pcrs = [23, 0, 16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 7];
      const values = await client.readPcrs(pcrs);
      const ascending = [...new Set(pcrs)].sort((a, b) => a - b);
      assert.deepEqual([...values.keys()], ascending);
      for (const v of values.values()) assert.equal(v.length, 32);
      // PCR 16 is the debug PCR anyone may extend: a non-zero value proves it is read, not zeroes.
      tpm2('pcrextend', [`16:sha256=${'ab'.repeat(32)}`], tpm.env);
      const after16 = await client.readPcrs([16]);
      const expected16 = createHash('sha256')
        .update(Buffer.concat([values.get(16)!, Buffer.alloc(32, 0xab)]))
        .digest();
      assert.deepEqual(after16.get(16), expected16);

      const fresh = await client.readPcrs(pcrs);
      const nonce = randomBytes(32);
      const quote = await client.quote(nonce, pcrs);
      // The cluster's own verifier checks the same digest in the ceremony tests; this one is the
      // test's independent parser (src-main may not import cluster code).
      const attest = parseQuoteAttest(quote.attest);
      assert.equal(attest.type, 0x8018);
      const selected = attest.pcrSelect.map((s) => ({
        hash: s.hash,
        pcrs: [...s.select.entries()].flatMap(([byte, bits]) =>
          [0, 1, 2, 3, 4, 5, 6, 7].filter((b) => bits & (1 << b)).map((b) => byte * 8 + b),
        ),
      }));
      assert.deepEqual(selected, [{ hash: 0x000b, pcrs: ascending }]);
      const digest = createHash('sha256')
        .update(Buffer.concat(ascending.map((i) => fresh.get(i)!)))
        .digest();
      assert.deepEqual(attest.pcrDigest, digest);
    } finally {
      await client.close();
    }
  });

  it('a TCTI with no TPM behind it is TPM_UNAVAILABLE', async () => {
    for (const tcti of ['swtpm:host=127.0.0.1,port=1', 'device:/nonexistent/tpmrm0']) {
      await assert.rejects(
        TpmClient.open({ tcti, cacheDir: join(work, 'none'), addon }),
        (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.TPM_UNAVAILABLE,
        tcti,
      );
    }
  });

  it('a TPM device the user may not open is TPM_PERMISSION_DENIED with the tss/udev advice', () => {
    // Root opens anything, so as root the check runs as `nobody` (setpriv, util-linux).
    const device = join(work, 'tpmrm0');
    writeFileSync(device, '');
    chmodSync(work, 0o755);
    chmodSync(device, process.getuid?.() === 0 ? 0o600 : 0o000);
    const client = fileURLToPath(new URL('../tpm-client.ts', import.meta.url));
    const code =
      `import { TpmClient } from ${JSON.stringify(client)};` +
      `try { await TpmClient.open({ tcti: 'device:${device}', cacheDir: '${join(work, 'perm')}' }); console.log('opened'); }` +
      `catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`;
    const nodeArgs = ['--import', 'tsx', '--input-type=module', '-e', code];
    const [cmd, args] =
      process.getuid?.() === 0
        ? ['setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...nodeArgs]]
        : [process.execPath, nodeArgs];
    const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, HOME: work } });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim()) as { code: string; message: string };
    assert.equal(out.code, ErrorCode.TPM_PERMISSION_DENIED);
    assert.match(out.message, /^Failed to open the TPM device .*tss.*udev rules/);
  });

  it('GATEHOUSE_TPM_TCTI picks the TPM when no tcti is given', async () => {
    const client = await TpmClient.open({ cacheDir: join(work, 'env'), addon, env: { GATEHOUSE_TPM_TCTI: tpm.tcti } });
    try {
      assert.equal(client.tcti, tpm.tcti);
      assert.ok(await client.ekCertificate());
    } finally {
      await client.close();
    }
  });

  it('an AK blob from another TPM is rejected as TPM_BINDING and recreated with a notice', async () => {
    const other = await startSwtpm();
    const cacheDir = join(work, 'stale');
    let foreign: Buffer;
    try {
      const c = await TpmClient.open({ tcti: other.tcti, cacheDir, addon });
      foreign = (await c.attestationKey()).public;
      await c.close();
    } finally {
      await other.stop();
    }
    const raw = await openRaw();
    try {
      const stored = JSON.parse(readFileSync(akBlobPath(cacheDir), 'utf8')) as { public: string; private: string };
      await assert.rejects(
        raw.loadAk(Buffer.from(stored.public, 'base64'), Buffer.from(stored.private, 'base64')),
        (e: unknown) =>
          (e as { code?: string }).code === 'TPM_BINDING' && /Load\(AK\) failed/.test((e as Error).message),
      );
      // A blob that does not even parse is just as foreign.
      await assert.rejects(
        raw.loadAk(Buffer.from('garbage'), Buffer.from(stored.private, 'base64')),
        (e: unknown) => (e as { code?: string }).code === 'TPM_BINDING',
      );
    } finally {
      await raw.close();
    }
    const notices: string[] = [];
    const client = await open(cacheDir, notices);
    try {
      const ak = await client.attestationKey();
      assert.notDeepEqual(ak.public, foreign);
      assert.equal(notices.length, 1);
      assert.match(notices[0]!, /does not belong to this TPM/);
      const nonce = randomBytes(32);
      verifyQuote(ak.public, await client.quote(nonce, [0]), nonce);
      const saved = JSON.parse(readFileSync(akBlobPath(cacheDir), 'utf8')) as { public: string };
      assert.deepEqual(Buffer.from(saved.public, 'base64'), ak.public, 'the new AK replaced the stale blob');
    } finally {
      await client.close();
    }
  });
});
