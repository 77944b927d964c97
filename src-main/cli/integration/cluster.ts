// Test-only: a real `gatehouse start` child process on free loopback ports, driven through the
// real `gatectl` and `gate` binaries. (src-main may not import cluster code, so this spawns the
// daemon's bin like a user would.)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../../', import.meta.url).pathname;

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

export class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'gate-it-'));
  readonly home = join(this.dir, 'home');
  proxyAddr = '';
  logs = '';
  private child: ChildProcess | undefined;
  private generation = 0;

  constructor(private readonly opts: { secondFactor?: 'off' | 'otp'; nodeName?: string } = {}) {}

  get nodeName(): string {
    return this.opts.nodeName ?? 'node1';
  }

  get dataDir(): string {
    return join(this.dir, `data${this.generation}`);
  }

  /** Starts the daemon; `fresh` starts a new cluster (new CAs) on the same proxy port. */
  async start(fresh = false): Promise<void> {
    if (fresh) this.generation++;
    if (!this.proxyAddr) this.proxyAddr = `127.0.0.1:${await freePort()}`;
    const cfg = join(this.dir, `gatehouse${this.generation}.yaml`);
    writeFileSync(
      cfg,
      [
        'cluster_name: it',
        'auth:',
        `  second_factor: ${this.opts.secondFactor ?? 'off'}`,
        'proxy:',
        `  listen_addr: ${this.proxyAddr}`,
        'node:',
        `  name: ${this.nodeName}`,
        `  listen_addr: 127.0.0.1:${await freePort()}`,
      ].join('\n'),
    );
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/gatehouse.mjs'), 'start', '--config', cfg, '--data-dir', this.dataDir],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
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

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.logs = '';
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private run(bin: string, args: string[], input = '', env: Record<string, string> = {}): CliResult {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', bin), ...args], {
      input,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, GATEHOUSE_DATA_DIR: this.dataDir, GATEHOUSE_HOME: this.home, ...env },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  gatectl(args: string[], input?: string): CliResult {
    return this.run('gatectl.mjs', args, input);
  }

  gate(args: string[], input?: string, env?: Record<string, string>): CliResult {
    return this.run('gate.mjs', args, input, env);
  }

  /** The gate command line for spawning it in a pty. */
  gateArgv(args: string[]): string[] {
    return [join(ROOT, 'bin/gate.mjs'), ...args];
  }
}
