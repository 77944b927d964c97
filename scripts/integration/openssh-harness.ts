// A throwaway stock OpenSSH sshd and ssh client for integration tests, isolated from the machine's
// own configuration (own host key, own config file, no user ~/.ssh, no agent).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { generateKeyPairSync } from 'node:crypto';
import ssh2 from 'ssh2';
import type { ConnectConfig } from 'ssh2';
import { privateKeyToOpenSSH, publicKeyToWire } from '../../src-shared/sshcert/keys.ts';
import { requireTool } from '../../test-support/sshcert-testkit.ts';
import type { tempDir } from '../../test-support/sshcert-testkit.ts';
import { freePort } from '../../test-support/cluster-process.ts';

type TempDir = ReturnType<typeof tempDir>;

export interface Sshd {
  port: number;
  /** Wire blob of the sshd's (plain) ed25519 host key. */
  hostKeyBlob: Buffer;
  /** Everything sshd logged so far (it runs with -e). */
  log: () => string;
  stop: () => void;
}

/** Starts `/usr/sbin/sshd -D -e` trusting `userCALine` (an authorized_keys-style CA line) for user certs. */
export async function startSshd(t: TempDir, userCALine: string, extraConfig: string[] = []): Promise<Sshd> {
  const sshdPath = requireTool('/usr/sbin/sshd');
  try {
    mkdirSync('/run/sshd', { recursive: true }); // privilege separation directory sshd insists on
  } catch (e) {
    throw new Error(
      `sshd needs /run/sshd and it could not be created (run the tests as root): ${(e as Error).message}`,
    );
  }
  const hostKey = generateKeyPairSync('ed25519').privateKey;
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${t.file('sshd_host_ed25519', privateKeyToOpenSSH(hostKey))}`,
    `PidFile ${t.file('sshd.pid')}`,
    `TrustedUserCAKeys ${t.file('user_ca.pub', userCALine + '\n')}`,
    'AuthorizedPrincipalsFile none',
    'AuthorizedKeysFile none',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'LogLevel VERBOSE',
    ...extraConfig,
  ];
  const configPath = t.file('sshd_config', config.join('\n') + '\n');
  const proc: ChildProcess = spawn(sshdPath, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (d: Buffer) => (log += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start listening within 10 s:\n${log}`)), 10_000);
    const onData = () => {
      if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with ${code} before listening:\n${log}`));
    });
    onData();
  });
  return {
    port,
    hostKeyBlob: publicKeyToWire(hostKey),
    log: () => log,
    stop: () => {
      if (proc.exitCode === null) proc.kill('SIGTERM');
    },
  };
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

/** Runs `command` over an ssh2 client connection; rejects with ssh2's error if the login fails. */
export function sshExec(config: ConnectConfig, command: string): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    let settled = false;
    const done = (err: Error | undefined, value?: ExecResult) => {
      if (settled) return;
      settled = true;
      client.end();
      if (err) reject(err);
      else resolve(value!);
    };
    client.on('error', (err) => done(err));
    client.on('ready', () => {
      client.exec(command, (err, stream) => {
        if (err) return done(err);
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        stream.on('data', (d: Buffer) => (stdout += d.toString()));
        stream.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        stream.on('exit', (c: number | null) => (code = c));
        stream.on('close', () => done(undefined, { stdout, stderr, code }));
      });
    });
    client.on('close', () => done(new Error('connection closed before the command finished')));
    client.connect({ readyTimeout: 15_000, ...config });
  });
}

/** Stock `ssh` to 127.0.0.1:port with strict host checking, no prompts, no user config or agent. */
export function runSsh(port: number, args: string[], timeoutMs = 20_000): Promise<ExecResult> {
  const base = [
    '-F',
    '/dev/null',
    '-p',
    String(port),
    '-o',
    'BatchMode=yes',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'ConnectTimeout=10',
  ];
  const ssh = requireTool('ssh');
  return new Promise((resolve) => {
    // Asynchronous on purpose: the server under test may live in this same process.
    const proc = spawn(ssh, [...base, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}
