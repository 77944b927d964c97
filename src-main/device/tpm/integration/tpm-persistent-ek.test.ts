// The persistent EK (TCG handle 0x81010001) against a real TPM (swtpm), cross-checked with
// tpm2-tools: an AK loads under the EK persisted there without making the EK again (what `gate
// login` did per process: an RSA primary key); with the slot free, the first load makes the EK
// from its template and persists it; a key at that handle that is not the AK's parent is never
// trusted: the AK is loaded under the EK made from the template, and the key is left alone.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSwtpm, type Swtpm } from '../../../../test-support/swtpm.ts';
import { loadTpmAddon, type NativeTpm, type TpmAddon } from '../addon.ts';
import { TpmClient } from '../tpm-client.ts';
import { parseRsaPublic, publicArea, tpm2, verifyQuote } from './tpm-structures.ts';

const PERSISTENT_EK = '0x81010001';
const EK_POLICY = '837197674484b3f81a90cc8d46a5d724fd52d76e06520b64f2a1da1b331469aa';

/** The persistent handles tpm2_getcap lists ("- 0x81010001" lines). */
function persistentHandles(tpm: Swtpm): string[] {
  const out = tpm2('getcap', ['handles-persistent'], tpm.env).toString('utf8');
  return [...out.matchAll(/0x[0-9a-fA-F]{8}/g)].map((m) => m[0].toLowerCase());
}

/** The RSA modulus of the key at the persistent EK handle, as tpm2_readpublic writes its TPM2B_PUBLIC. */
function modulusAtHandle(tpm: Swtpm, dir: string): string | undefined {
  const file = join(dir, `readpublic-${randomBytes(4).toString('hex')}.bin`);
  tpm2('readpublic', ['-c', PERSISTENT_EK, '-o', file], tpm.env);
  return parseRsaPublic(publicArea(readFileSync(file))).key.export({ format: 'jwk' }).n;
}

describe('the persistent EK (swtpm)', () => {
  let addon: TpmAddon;
  let work: string;
  before(() => {
    addon = loadTpmAddon();
    work = mkdtempSync(join(tmpdir(), 'gatehouse-tpm-ek-'));
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** An AK made on `tpm` (its blob), on a connection of its own. */
  async function makeAk(tpm: Swtpm): Promise<{ public: Buffer; private: Buffer }> {
    const raw = new addon.Tpm(tpm.tcti);
    await raw.open();
    try {
      const ak = await raw.createAk();
      return { public: ak.public, private: ak.private };
    } finally {
      await raw.close();
    }
  }

  /** Loads the AK on a new connection, checks a quote by it, and says how often the EK was made. */
  async function loadAndQuote(tpm: Swtpm, ak: { public: Buffer; private: Buffer }): Promise<number> {
    const raw: NativeTpm = new addon.Tpm(tpm.tcti);
    await raw.open();
    try {
      const handle = await raw.loadAk(ak.public, ak.private);
      const nonce = randomBytes(32);
      verifyQuote(ak.public, await raw.quote(handle, nonce, [0, 7]), nonce);
      await raw.flush(handle);
      return raw.ekCreations();
    } finally {
      await raw.close();
    }
  }

  const evictEk = (tpm: Swtpm) => tpm2('evictcontrol', ['-C', 'o', '-c', PERSISTENT_EK], tpm.env);

  it('an AK loads under the EK persisted at 0x81010001 (as swtpm_setup leaves it) without making the EK', async () => {
    const tpm = await startSwtpm();
    try {
      assert.ok(persistentHandles(tpm).includes(PERSISTENT_EK), 'swtpm_setup persists the EK there');
      const ak = await makeAk(tpm);
      assert.equal(await loadAndQuote(tpm, ak), 0);
      assert.equal(await loadAndQuote(tpm, ak), 0);
    } finally {
      await tpm.stop();
    }
  });

  it('with the slot free, the first load makes the EK from its template and persists it; later loads use it', async () => {
    const tpm = await startSwtpm();
    try {
      const ak = await makeAk(tpm);
      evictEk(tpm);
      assert.ok(!persistentHandles(tpm).includes(PERSISTENT_EK));
      assert.equal(await loadAndQuote(tpm, ak), 1, 'made from the template once');
      assert.ok(persistentHandles(tpm).includes(PERSISTENT_EK), 'then persisted');
      const client = await TpmClient.open({ tcti: tpm.tcti, cacheDir: join(work, 'persist'), addon });
      try {
        const ekModulus = parseRsaPublic(await client.ekPublic()).key.export({ format: 'jwk' }).n;
        assert.equal(modulusAtHandle(tpm, work), ekModulus, 'the persisted key is this TPM’s EK');
      } finally {
        await client.close();
      }
      assert.equal(await loadAndQuote(tpm, ak), 0, 'found there the next time');
    } finally {
      await tpm.stop();
    }
  });

  it('a look-alike key at the handle is not used: the AK loads under the EK made from the template', async () => {
    const tpm = await startSwtpm();
    try {
      const ak = await makeAk(tpm);
      evictEk(tpm);
      // An owner-hierarchy primary with the EK template's attributes and policy: the same public
      // shape as the EK, a different key, put where the EK belongs.
      const policy = join(work, 'ek-policy.bin');
      writeFileSync(policy, Buffer.from(EK_POLICY, 'hex'));
      const ctx = join(work, 'lookalike.ctx');
      const attributes = 'fixedtpm|fixedparent|sensitivedataorigin|adminwithpolicy|restricted|decrypt';
      tpm2(
        'createprimary',
        ['-C', 'o', '-g', 'sha256', '-G', 'rsa2048:aes128cfb', '-L', policy, '-a', attributes, '-c', ctx],
        tpm.env,
      );
      tpm2('evictcontrol', ['-C', 'o', '-c', ctx, PERSISTENT_EK], tpm.env);
      tpm2('flushcontext', ['-t'], tpm.env);
      const lookalike = modulusAtHandle(tpm, work);

      assert.equal(await loadAndQuote(tpm, ak), 1, 'the AK loaded under the EK made from the template');
      assert.equal(await loadAndQuote(tpm, ak), 1, 'and again: the look-alike is never taken for the EK');
      assert.equal(modulusAtHandle(tpm, work), lookalike, 'the key someone put there is left alone');
    } finally {
      await tpm.stop();
    }
  });
});
