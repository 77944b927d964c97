// Test-only: runs tpm2-tools against a swtpm, so every TPM structure our TypeScript parses or
// builds is cross-checked with the reference implementation (tpm2-tss) rather than our own reading
// of the spec.
import { spawnSync } from 'node:child_process';
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
