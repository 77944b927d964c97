// Starts a real `gatehouse start` child process on free loopback ports with a temp data dir,
// and runs the real `gatectl` and `gate` CLIs against it. Tests see exactly what users see.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface ClusterOptions {
  secondFactor?: 'off' | 'otp';
  nodeName?: string;
  nodeLabels?: Record<string, string>;
  extraConfig?: string;
  /** Extra node flags for the daemon, e.g. --cpu-prof when profiling a benchmark. */
  nodeArgs?: string[];
}

export class TestCluster {
  readonly dir: string;
  readonly dataDir: string;
  readonly home: string;
  proxyAddr = '';
  nodeAddr = '';
  nodeName: string;
  logs = '';
  private child?: ChildProcess;

  constructor(private readonly opts: ClusterOptions = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'gatehouse-it-'));
    this.dataDir = join(this.dir, 'data');
    this.home = join(this.dir, 'home');
    this.nodeName = opts.nodeName ?? 'node1';
  }

  async start(): Promise<void> {
    const proxyPort = await freePort();
    const nodePort = await freePort();
    this.proxyAddr = `127.0.0.1:${proxyPort}`;
    this.nodeAddr = `127.0.0.1:${nodePort}`;
    const labels = Object.entries(this.opts.nodeLabels ?? { env: 'test' })
      .map(([k, v]) => `    ${k}: ${v}`)
      .join('\n');
    const config = [
      'version: v1',
      'cluster_name: it',
      'auth:',
      `  second_factor: ${this.opts.secondFactor ?? 'off'}`,
      'proxy:',
      `  listen_addr: ${this.proxyAddr}`,
      'node:',
      `  name: ${this.nodeName}`,
      `  listen_addr: ${this.nodeAddr}`,
      '  labels:',
      labels,
      this.opts.extraConfig ?? '',
    ].join('\n');
    const cfgPath = join(this.dir, 'gatehouse.yaml');
    writeFileSync(cfgPath, config);
    await this.spawnDaemon(cfgPath);
  }

  private spawnDaemon(cfgPath: string): Promise<void> {
    const child = spawn(
      process.execPath,
      [
        ...(this.opts.nodeArgs ?? []),
        join(ROOT, 'bin/gatehouse.mjs'),
        'start',
        '--config',
        cfgPath,
        '--data-dir',
        this.dataDir,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gatehouse did not start within 30 s:\n${this.logs}`)), 30_000);
      const onData = (d: Buffer) => {
        this.logs += d.toString();
        if (this.logs.includes('gatehouse is running')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gatehouse exited with ${code} before it was running:\n${this.logs}`));
      });
    });
  }

  async waitForLog(re: RegExp, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.logs)) {
      if (Date.now() > deadline) throw new Error(`log line ${re} did not appear within ${timeoutMs} ms:\n${this.logs}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM and wait; returns the exit code. */
  async stop(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(bin: string, args: string[], input?: string, env: Record<string, string> = {}): CliResult {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', bin), ...args], {
      input: input ?? '',
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, GATEHOUSE_DATA_DIR: this.dataDir, GATEHOUSE_HOME: this.home, ...env },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  gatectl(args: string[], input?: string, env?: Record<string, string>): CliResult {
    return this.run('gatectl.mjs', args, input, env);
  }

  gate(args: string[], input?: string, env?: Record<string, string>): CliResult {
    return this.run('gate.mjs', args, input, env);
  }

  /** Adds a role-holding user with a password and logs `gate` in as them. */
  addUserAndLogin(user: string, password: string, roles = 'access', logins = 'root'): CliResult {
    const add = this.gatectl(
      ['users', 'add', user, `--roles=${roles}`, `--logins=${logins}`, '--password-stdin'],
      password + '\n',
    );
    if (add.status !== 0) throw new Error(`users add failed: ${add.stderr}`);
    return this.gate(['login', '--proxy', this.proxyAddr, '--user', user, '--password-stdin'], password + '\n');
  }
}
