// Test-only: runs tpm2-tools against a swtpm, so every TPM structure our TypeScript parses or
// builds is cross-checked with the reference implementation (tpm2-tss) rather than our own reading
// of the spec.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Swtpm } from '../../../test-support/swtpm.ts';

/** Runs `tpm2_<tool>` against the given swtpm (or none for `-T none` tools); throws with its output on failure. */
export function tpm2(tpm: Swtpm | undefined, tool: string, args: string[], cwd?: string): string {
  const r = spawnSync(`tpm2_${tool}`, args, {
    encoding: 'utf8',
    cwd,
    env: tpm ? tpm.env : process.env,
    timeout: 60_000,
  });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error(`tpm2_${tool} not found on PATH; install the Debian package: apt-get install tpm2-tools`);
  }
  if (r.status !== 0) {
    throw new Error(`tpm2_${tool} ${args.join(' ')} failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** Like tpm2() but returns the status and output instead of throwing (for commands expected to fail). */
export function tpm2Try(
  tpm: Swtpm | undefined,
  tool: string,
  args: string[],
  cwd?: string,
): { status: number | null; output: string } {
  const r = spawnSync(`tpm2_${tool}`, args, {
    encoding: 'utf8',
    cwd,
    env: tpm ? tpm.env : process.env,
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, output: r.stdout + r.stderr };
}

/**
 * tpm2-tools' credential file (what `tpm2_makecredential -o` writes and `tpm2_activatecredential -i`
 * reads): magic 0xBADCC0DE, version 1, then TPM2B_ID_OBJECT and TPM2B_ENCRYPTED_SECRET as is.
 */
export function encodeCredentialFile(credentialBlob: Buffer, encryptedSecret: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(0xbadcc0de, 0);
  header.writeUInt32BE(1, 4);
  return Buffer.concat([header, credentialBlob, encryptedSecret]);
}

export function decodeCredentialFile(file: Buffer): { credentialBlob: Buffer; encryptedSecret: Buffer } {
  if (file.readUInt32BE(0) !== 0xbadcc0de || file.readUInt32BE(4) !== 1)
    throw new Error('not a tpm2-tools credential file');
  const blobEnd = 8 + 2 + file.readUInt16BE(8);
  const secretEnd = blobEnd + 2 + file.readUInt16BE(blobEnd);
  if (secretEnd !== file.length) throw new Error('credential file has trailing bytes');
  return { credentialBlob: file.subarray(8, blobEnd), encryptedSecret: file.subarray(blobEnd, secretEnd) };
}

/**
 * TPM2_ActivateCredential the way a client must do it: the EK's policy is PolicySecret(endorsement),
 * so it needs a policy session. Returns the recovered secret; flushes every transient handle
 * (swtpm has no resource manager).
 */
export function activateCredential(tpm: Swtpm, dir: string, akCtx: string, ekCtx: string, credFile: string): Buffer {
  const session = join(dir, `session-${process.hrtime.bigint()}.ctx`);
  const out = join(dir, `activated-${process.hrtime.bigint()}`);
  try {
    tpm2(tpm, 'startauthsession', ['--policy-session', '-S', session]);
    tpm2(tpm, 'policysecret', ['-S', session, '-c', 'e']);
    tpm2(tpm, 'activatecredential', ['-c', akCtx, '-C', ekCtx, '-i', credFile, '-o', out, '-P', `session:${session}`]);
    return readFileSync(out);
  } finally {
    flushAll(tpm);
  }
}

/** Flushes transient objects and sessions (tpm2-tools leaves loaded contexts behind on swtpm). */
export function flushAll(tpm: Swtpm): void {
  tpm2(tpm, 'flushcontext', ['-t']);
  tpm2(tpm, 'flushcontext', ['-s']);
}
