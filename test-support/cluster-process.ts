// Test-only: a real `gatehouse start` child process (auth + proxy + node in one) on free loopback
// ports with a temp config and data dir, driven through the real `gatectl` and `gate` binaries, so
// tests see exactly what users see. The cluster's integration tests, the client's integration
// tests, the e2e suite and the benchmarks all need this; it lives here, outside src-main and
// src-cluster and importing neither, because lint keeps those two sides from importing each other.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (with a trailing slash). */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));

/** A loopback port nothing listens on right now (the OS picks it; another process may take it later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves with the exit code. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 10_000): Promise<number | null> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

export interface ClusterUser {
  name: string;
  password: string;
  /** The OS login the node may use: the user running the tests (an unprivileged node allows only itself). */
  login: string;
}

export interface ClusterProcessOptions {
  /** Default `it`. */
  clusterName?: string;
  /** Default `off`. */
  secondFactor?: 'off' | 'otp';
  /** Default `node1`. */
  nodeName?: string;
  /** Default `{ env: 'test' }`. */
  nodeLabels?: Record<string, string>;
  /** YAML appended to the generated config. */
  extraConfig?: string;
  /** Extra node flags for the daemon, e.g. --cpu-prof when profiling a benchmark. */
  nodeArgs?: string[];
  /** Extra lines for the config's `proxy:` / `node:` sections, e.g. `idle_timeout: 2s`. */
  proxyConfig?: string[];
  nodeConfig?: string[];
}

export class ClusterProcess {
  readonly dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  /** GATEHOUSE_HOME of the `gate` runs: where its login profiles and pinned CAs live. */
  readonly home = join(this.dir, 'home');
  readonly clusterName: string;
  readonly nodeName: string;
  readonly nodeLabels: Record<string, string>;
  /** Both are picked on the first start and kept across restarts, so clients can reconnect. */
  proxyAddr = '';
  nodeAddr = '';
  private output = '';
  private child: ChildProcess | undefined;
  /** Bumped by restartWithFreshData: each generation is a new data dir, so a new cluster with new CAs. */
  private generation = 0;
  private pinCache: { generation: number; pin: string } | undefined;

  constructor(private readonly opts: ClusterProcessOptions = {}) {
    this.clusterName = opts.clusterName ?? 'it';
    this.nodeName = opts.nodeName ?? 'node1';
    this.nodeLabels = opts.nodeLabels ?? { env: 'test' };
  }

  get dataDir(): string {
    return join(this.dir, this.generation === 0 ? 'data' : `data${this.generation}`);
  }

  /** The running daemon's process id (e.g. to read its memory from /proc). */
  get pid(): number | undefined {
    return this.child?.exitCode === null ? this.child.pid : undefined;
  }

  /**
   * The proxy's CA fingerprint ("SHA256:<hex>", from `gatectl status`), for `gate login --ca-pin`:
   * `gate` refuses an unconfirmed first contact, and tests are what an admin hands a user.
   */
  get caPin(): string {
    if (this.pinCache?.generation === this.generation) return this.pinCache.pin;
    const r = this.gatectl(['status']);
    const pin = /tls_host\s+(SHA256:[0-9a-f]{64})/.exec(r.stdout)?.[1];
    if (!pin) throw new Error(`gatectl status printed no tls_host fingerprint (${r.status}):\n${r.stdout}${r.stderr}`);
    // The CA lives in the data dir, so it only changes with restartWithFreshData.
    this.pinCache = { generation: this.generation, pin };
    return pin;
  }

  /** Everything the daemon printed so far, over all its runs. */
  get logs(): string {
    return this.output;
  }

  /** Starts the daemon and resolves once it says it is running. */
  async start(): Promise<void> {
    if (!this.proxyAddr) this.proxyAddr = `127.0.0.1:${await freePort()}`;
    if (!this.nodeAddr) this.nodeAddr = `127.0.0.1:${await freePort()}`;
    const labels = Object.entries(this.nodeLabels);
    const config = [
      'version: v1',
      `cluster_name: ${this.clusterName}`,
      'auth:',
      `  second_factor: ${this.opts.secondFactor ?? 'off'}`,
      'proxy:',
      `  listen_addr: ${this.proxyAddr}`,
      ...(this.opts.proxyConfig ?? []).map((l) => `  ${l}`),
      'node:',
      `  name: ${this.nodeName}`,
      `  listen_addr: ${this.nodeAddr}`,
      ...(this.opts.nodeConfig ?? []).map((l) => `  ${l}`),
      ...(labels.length ? ['  labels:', ...labels.map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)] : []),
      this.opts.extraConfig ?? '',
      '',
    ].join('\n');
    const cfgPath = join(this.dir, 'gatehouse.yaml');
    writeFileSync(cfgPath, config);
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
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    // Only this run's output counts: an earlier run already said it was running.
    const from = this.output.length;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`gatehouse did not start within 30 s:\n${this.output.slice(from)}`)),
        30_000,
      );
      const onData = (d: Buffer) => {
        this.output += d.toString();
        if (this.output.includes('gatehouse is running', from)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gatehouse exited with ${code} before it was running:\n${this.output.slice(from)}`));
      });
    });
  }

  /** Stops it and starts a new cluster (new data dir, so new CAs) on the same addresses. */
  async restartWithFreshData(): Promise<void> {
    await this.stop();
    this.generation++;
    await this.start();
  }

  /** Waits until the daemon's log after offset `from` (e.g. an earlier `logs.length`) matches. */
  async waitForLog(re: RegExp, timeoutMs = 10_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.slice(from).match(re);
      if (m) return m;
      if (Date.now() > deadline) {
        throw new Error(`log line ${re} did not appear within ${timeoutMs} ms:\n${this.output.slice(from)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM and wait; returns the exit code. The temp dir stays, so it can start again. */
  stop(): Promise<number | null> {
    return stopChild(this.child);
  }

  /** kill -9: no shutdown code runs (fault tests); resolves once the process is gone. */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
  }

  /** Stops it and removes its temp dir. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  gatectl(args: string[], input?: string, env?: Record<string, string>): CliResult {
    return this.run('gatectl.mjs', args, input, env);
  }

  gate(args: string[], input?: string, env?: Record<string, string>): CliResult {
    return this.run('gate.mjs', args, input, env);
  }

  /** The `gate` command line (after the node binary) for spawning it yourself, e.g. in a pty. */
  gateArgv(args: string[]): string[] {
    return [join(ROOT, 'bin/gate.mjs'), ...args];
  }

  /** Creates (or replaces) a resource from YAML text. */
  apply(yaml: string): void {
    const file = join(this.dir, `resource-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    this.setup(['create', '-f', file, '--force']);
  }

  /** A role allowing every node with the user's own logins, optionally with a session limit. */
  addRole(name: string, maxSessionTtl?: string): void {
    this.apply(
      [
        'kind: role',
        'version: v7',
        'metadata:',
        `  name: ${name}`,
        'spec:',
        '  allow:',
        '    logins: ["{{internal.logins}}"]',
        '    node_labels:',
        '      "*": "*"',
        ...(maxSessionTtl ? ['  options:', `    max_session_ttl: ${maxSessionTtl}`] : []),
        '',
      ].join('\n'),
    );
  }

  /** A user with a random password whose login is the OS user running the tests. */
  addUser(name: string, roles: string[]): ClusterUser {
    const password = `pw-${name}-${Math.random().toString(36).slice(2, 10)}`;
    const login = userInfo().username;
    this.setup(
      ['users', 'add', name, `--roles=${roles.join(',')}`, `--logins=${login}`, '--password-stdin'],
      `${password}\n`,
    );
    return { name, password, login };
  }

  /** Adds a role-holding user with a password and logs `gate` in as them; returns the login's result. */
  addUserAndLogin(user: string, password: string, roles = 'access', logins = 'root'): CliResult {
    this.setup(['users', 'add', user, `--roles=${roles}`, `--logins=${logins}`, '--password-stdin'], password + '\n');
    return this.gate(
      ['login', '--proxy', this.proxyAddr, '--ca-pin', this.caPin, '--user', user, '--password-stdin'],
      password + '\n',
    );
  }

  /** gatectl for a setup step the test is not about: a failure throws with its output. */
  private setup(args: string[], input?: string): CliResult {
    const r = this.gatectl(args, input);
    if (r.status !== 0) throw new Error(`gatectl ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
    return r;
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
}
