// Test-only: a swtpm with the keys a device would have: RSA and ECC EKs and AKs made by tpm2-tools
// (tpm2_createek / tpm2_createak, the reference client), as files our TypeScript reads.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSwtpm, type Swtpm } from '../../../test-support/swtpm.ts';
import { flushAll, tpm2 } from './tpm2-tools.ts';

export interface KeyFiles {
  /** Saved context for tpm2-tools `-c`. */
  ctx: string;
  /** TPM2B_PUBLIC as tpm2-tools wrote it. */
  pub: Buffer;
  /** The Name as the TPM computed it (AKs only; empty for EKs). */
  name: Buffer;
}

export interface TpmFixture {
  tpm: Swtpm;
  dir: string;
  ekRsa: KeyFiles;
  ekEcc: KeyFiles;
  /** RSA 2048 RSASSA-SHA256 AK under the RSA EK. */
  akRsa: KeyFiles;
  /** ECC P-256 ECDSA-SHA256 AK under the ECC EK. */
  akEcc: KeyFiles;
  close(): Promise<void>;
}

export function createEk(tpm: Swtpm, dir: string, label: string, alg: 'rsa' | 'ecc'): KeyFiles {
  const ctx = join(dir, `${label}.ctx`);
  const pub = join(dir, `${label}.pub`);
  tpm2(tpm, 'createek', ['-c', ctx, '-G', alg, '-u', pub]);
  flushAll(tpm);
  return { ctx, pub: readFileSync(pub), name: Buffer.alloc(0) };
}

export function createAk(
  tpm: Swtpm,
  dir: string,
  label: string,
  ekCtx: string,
  alg: 'rsa' | 'ecc',
  scheme: 'rsassa' | 'rsapss' | 'ecdsa',
): KeyFiles {
  const ctx = join(dir, `${label}.ctx`);
  const pub = join(dir, `${label}.pub`);
  const name = join(dir, `${label}.name`);
  tpm2(tpm, 'createak', ['-C', ekCtx, '-c', ctx, '-G', alg, '-g', 'sha256', '-s', scheme, '-u', pub, '-n', name]);
  flushAll(tpm);
  return { ctx, pub: readFileSync(pub), name: readFileSync(name) };
}

export async function startTpmFixture(): Promise<TpmFixture> {
  const tpm = await startSwtpm();
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-tpm-keys-'));
  try {
    const ekRsa = createEk(tpm, dir, 'ek-rsa', 'rsa');
    const ekEcc = createEk(tpm, dir, 'ek-ecc', 'ecc');
    const akRsa = createAk(tpm, dir, 'ak-rsa', ekRsa.ctx, 'rsa', 'rsassa');
    const akEcc = createAk(tpm, dir, 'ak-ecc', ekEcc.ctx, 'ecc', 'ecdsa');
    return {
      tpm,
      dir,
      ekRsa,
      ekEcc,
      akRsa,
      akEcc,
      async close() {
        await tpm.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await tpm.stop();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
