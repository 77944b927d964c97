// Real keys, real CAs (ssh-keygen) and the stock OpenSSH client, for the node server tests.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAuthorizedKey } from '../../../src-shared/sshcert/index.ts';
import type { Logger } from '../types.ts';
import { NodeSshServer } from '../server.ts';
import type { AuthorizationDecision, NodeSshServerOptions, SessionAuthorizationRequest } from '../types.ts';

export function requireTool(name: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${name}`]);
  if (r.status !== 0) throw new Error(`${name} is needed for these tests (Debian: openssh-client)`);
}

export class TempDir {
  readonly path = mkdtempSync(join(tmpdir(), 'gatehouse-node-'));
  file(name: string): string {
    return join(this.path, name);
  }
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Makes an unencrypted ed25519 key pair with ssh-keygen; returns the private key path. */
export function makeKey(dir: TempDir, name: string): string {
  const path = dir.file(name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', path]);
  return path;
}

export interface CertOptions {
  keyId: string;
  principals: string[];
  /** ssh-keygen -V syntax, e.g. "-5m:+1h" or "20200101:20200102". */
  validity?: string;
  /** ssh-keygen -O values, e.g. "force-command=id" or "critical:foo=bar". */
  options?: string[];
  host?: boolean;
}

/** Signs `keyPath.pub` with the CA at `caPath`; returns the certificate path (`<key>-cert.pub`). */
export function signCert(caPath: string, keyPath: string, o: CertOptions): string {
  const args = ['-q', '-s', caPath, '-I', o.keyId, '-n', o.principals.join(','), '-V', o.validity ?? '-5m:+1h'];
  for (const opt of o.options ?? []) args.push('-O', opt);
  if (o.host) args.push('-h');
  execFileSync('ssh-keygen', [...args, `${keyPath}.pub`]);
  return `${keyPath}-cert.pub`;
}

export function publicKeyBlob(keyPath: string): Buffer {
  return parseAuthorizedKey(readFileSync(`${keyPath}.pub`, 'utf8'));
}

export interface RecordingLogger extends Logger {
  lines: string[];
}

export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const make = (component: string): RecordingLogger => {
    const log = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
      lines.push(
        `${level} [${component}] ${msg} ${JSON.stringify(fields ?? {}, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Error ? v.message : v))}`,
      );
    return {
      lines,
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (c: string) => make(c),
    };
  };
  return make('node');
}

export class TestAuthorizer {
  readonly requests: SessionAuthorizationRequest[] = [];
  decision: AuthorizationDecision = { allowed: true };
  async authorize(req: SessionAuthorizationRequest): Promise<AuthorizationDecision> {
    this.requests.push(req);
    return this.decision;
  }
}

export interface TestNode {
  server: NodeSshServer;
  port: number;
  logger: RecordingLogger;
  authorizer: TestAuthorizer;
}

export async function startTestNode(
  dir: TempDir,
  userCaPath: string,
  extra: Partial<NodeSshServerOptions> = {},
): Promise<TestNode> {
  const hostKey = makeKey(dir, `host-${Math.random().toString(36).slice(2)}`);
  const logger = recordingLogger();
  const authorizer = new TestAuthorizer();
  const server = new NodeSshServer({
    name: 'test-node',
    labels: { env: 'test' },
    listenHost: '127.0.0.1',
    listenPort: 0,
    hostKey: readFileSync(hostKey, 'utf8'),
    trustedUserCAs: () => [publicKeyBlob(userCaPath)],
    authorizer,
    logger,
    ...extra,
  });
  const { port } = await server.start();
  return { server, port, logger, authorizer };
}

export interface SshRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface SshArgs {
  port: number;
  login: string;
  key: string;
  /** Certificate file; omit to offer the plain key only. */
  cert?: string;
  command?: string[];
  /** Extra -o options / flags; they win over the defaults. */
  flags?: string[];
  env?: Record<string, string>;
  /** Bytes for ssh's stdin (otherwise stdin is /dev/null). */
  input?: Buffer;
  timeoutMs?: number;
}

export function sshArgv(a: SshArgs): string[] {
  // OpenSSH keeps the first value it sees for an option, so the caller's flags go first.
  const argv = [
    '-F',
    '/dev/null',
    ...(a.flags ?? []),
    '-p',
    String(a.port),
    '-i',
    a.key,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'StrictHostKeyChecking=no',
    '-o',
    'UserKnownHostsFile=/dev/null',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
  ];
  if (a.cert) argv.push('-o', `CertificateFile=${a.cert}`);
  argv.push(`${a.login}@127.0.0.1`, ...(a.command ?? []));
  return argv;
}

/** Runs the stock `ssh` client to completion. */
export function runSsh(a: SshArgs): Promise<SshRun> {
  const child = spawnSsh(a);
  return collect(child, a.timeoutMs ?? 20_000);
}

export function spawnSsh(a: SshArgs) {
  const child = spawn('ssh', sshArgv(a), {
    stdio: [a.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root', ...a.env },
  });
  if (a.input) child.stdin!.end(a.input);
  return child;
}

export function collect(child: ReturnType<typeof spawn>, timeoutMs: number): Promise<SshRun> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `ssh did not finish in ${timeoutMs} ms; stdout=${JSON.stringify(stdout)} stderr=${JSON.stringify(stderr)}`,
        ),
      );
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Left out: the known-hosts notice every test connection causes.
      stderr = stderr.replace(/^Warning: Permanently added .*\r?\n/m, '');
      resolve({ code, stdout, stderr });
    });
  });
}
