// The addon's asynchronous side against swtpm: TPM commands run on libuv worker threads, calls on
// one connection are serialized (native mutex, TpmClient queue), and failures still reject with
// their codes. Same requirements as tpm.test.ts (addon built, swtpm swtpm-tools tpm2-tools).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startSwtpm, type Swtpm } from '../../../../test-support/swtpm.ts';
import { ErrorCode, GatehouseError } from '../../../../src-shared/errors.ts';
import { loadTpmAddon, type TpmAddon } from '../addon.ts';
import { akBlobPath } from '../ak-store.ts';
import { TpmClient } from '../tpm-client.ts';
import { parseRsaPublic, verifyQuote } from './tpm-structures.ts';

describe('TPM addon off the JS thread (swtpm)', () => {
  let addon: TpmAddon;
  let tpm: Swtpm;
  let work: string;
  const open = (cacheDir: string) => TpmClient.open({ tcti: tpm.tcti, cacheDir, addon });
  const openRaw = async () => {
    const raw = new addon.Tpm(tpm.tcti);
    await raw.open();
    return raw;
  };

  before(async () => {
    addon = loadTpmAddon();
    tpm = await startSwtpm();
    work = mkdtempSync(join(tmpdir(), 'gatehouse-tpm-async-'));
  });
  after(async () => {
    await tpm?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('TPM work runs off the JS thread: timers fire while the TPM creates an AK', async () => {
    const raw = await openRaw();
    try {
      let ticks = 0;
      const timer = setInterval(() => ticks++, 1);
      let timeout = false;
      setTimeout(() => (timeout = true), 0);
      const started = performance.now();
      const pending = raw.createAk();
      const returnedAfter = performance.now() - started;
      const ak = await pending;
      clearInterval(timer);
      // A synchronous call would return only after the TPM finished, and resume the await before any timer.
      assert.ok(timeout, 'a 0 ms timer fired before createAk resolved');
      assert.ok(ticks > 0, `the event loop turned while the TPM worked (${ticks} ticks)`);
      assert.ok(returnedAfter < 50, `createAk returned its promise in ${returnedAfter.toFixed(1)} ms`);
      assert.ok(ak.public.length > 256 && ak.creationAttest.length > 0);
    } finally {
      await raw.close();
    }
  });

  it('concurrent calls on one native object are serialized (mutex) and all succeed', async () => {
    const raw = await openRaw();
    try {
      const ak = await raw.createAk();
      const h = await raw.loadAk(ak.public, ak.private);
      const nonces = Array.from({ length: 6 }, () => randomBytes(16));
      const [quotes, ekPubs, pcrs] = await Promise.all([
        Promise.all(nonces.map((n) => raw.quote(h, n, [0, 1]))),
        Promise.all([raw.ekPublic(), raw.ekPublic(), raw.ekPublic()]),
        Promise.all([raw.pcrRead([0, 1]), raw.readEkCert()]),
      ]);
      quotes.forEach((q, i) => verifyQuote(ak.public, q, nonces[i]!));
      assert.deepEqual(ekPubs[1], ekPubs[0]);
      assert.deepEqual(ekPubs[2], ekPubs[0]);
      assert.equal(pcrs[0].length, 2);
      await raw.flush(h);
      // Still no leaked slots: another round of loads works after the storm.
      const h2 = await raw.loadAk(ak.public, ak.private);
      await raw.flush(h2);
    } finally {
      await raw.close();
    }
  });

  it('TpmClient queues racing calls: two attestationKey() calls make one AK', async () => {
    const client = await open(join(work, 'race'));
    try {
      const nonce = randomBytes(16);
      const [a, b, q, ek] = await Promise.all([
        client.attestationKey(),
        client.attestationKey(),
        client.quote(nonce, [0]),
        client.ekPublic(),
      ]);
      assert.deepEqual(a.public, b.public, 'the second caller got the AK the first created');
      verifyQuote(a.public, q, nonce);
      assert.equal(parseRsaPublic(ek).keyBits, 2048);
      const saved = JSON.parse(readFileSync(akBlobPath(join(work, 'race')), 'utf8')) as { public: string };
      assert.deepEqual(Buffer.from(saved.public, 'base64'), a.public);
    } finally {
      await client.close();
    }
  });

  it('native failures reject with their codes: bad input, unknown handle, closed connection', async () => {
    const raw = new addon.Tpm(tpm.tcti);
    const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
    await assert.rejects(raw.ekPublic(), code('TPM_CLOSED'), 'before open()');
    await raw.open();
    await assert.rejects(raw.pcrRead([24]), code('TPM_BAD_INPUT'));
    await assert.rejects(raw.quote(0x80ffffff, Buffer.alloc(8), [0]), code('TPM_BAD_INPUT'));
    await assert.rejects(raw.quote(0, Buffer.alloc(65), [0]), code('TPM_BAD_INPUT'));
    // A TPM-layer failure keeps rc and the decoded text: TPM2_ActivateCredential with a garbage secret.
    const ak = await raw.createAk();
    const h = await raw.loadAk(ak.public, ak.private);
    await assert.rejects(raw.activateCredential(h, Buffer.alloc(40, 1), Buffer.alloc(256, 2)), (e: unknown) => {
      const err = e as { code?: string; rc?: number; rcText?: string; message: string };
      return (
        err.code === 'TPM_ERROR' && typeof err.rc === 'number' && !!err.rcText && /ActivateCredential/.test(err.message)
      );
    });
    await raw.close();
    await assert.rejects(raw.pcrRead([0]), code('TPM_CLOSED'), 'after close()');
    const client = await open(join(work, 'closed'));
    await client.close();
    await assert.rejects(
      client.ekPublic(),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.TPM_ERROR,
    );
  });
});
