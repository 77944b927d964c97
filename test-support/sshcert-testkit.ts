// Test-only helpers that drive the real OpenSSH tools. A missing tool is a test failure with
// an install hint, never a skip: the interop checks are the point of these tests.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const TOOL_PACKAGES: Record<string, string> = {
  'ssh-keygen': 'openssh-client',
  ssh: 'openssh-client',
  '/usr/sbin/sshd': 'openssh-server',
  'ssh-audit': 'ssh-audit',
  testssl: 'testssl.sh',
  openssl: 'openssl',
};

/** Absolute path of an OpenSSH tool, or an Error that says how to install it. */
export function requireTool(name: string): string {
  const found = name.startsWith('/')
    ? existsSync(name)
      ? name
      : undefined
    : spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim() || undefined;
  if (!found) {
    throw new Error(
      `${name} is required by this test but was not found; install it with: apt-get install -y ${TOOL_PACKAGES[name] ?? name}`,
    );
  }
  return found;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a tool and returns its output; throws with stderr if it fails and `check` is left on. */
export function run(
  tool: string,
  args: string[],
  opts: { check?: boolean; input?: string; timeoutMs?: number } = {},
): RunResult {
  const bin = requireTool(tool);
  const r = spawnSync(bin, args, { encoding: 'utf8', input: opts.input, timeout: opts.timeoutMs ?? 30_000 });
  if (r.error) throw new Error(`${tool} ${args.join(' ')} could not run: ${r.error.message}`);
  const out = { status: r.status, stdout: r.stdout, stderr: r.stderr };
  if ((opts.check ?? true) && r.status !== 0) {
    throw new Error(`${tool} ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  }
  return out;
}

export function sshKeygen(args: string[], opts: { check?: boolean } = {}): RunResult {
  return run('ssh-keygen', args, opts);
}

/** A private temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix = 'gatehouse-sshcert-'): {
  dir: string;
  file: (name: string, content?: string) => string;
  cleanup: () => void;
} {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    file(name, content) {
      const p = join(dir, name);
      if (content !== undefined) writeFileSync(p, content, { mode: 0o600 });
      return p;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
