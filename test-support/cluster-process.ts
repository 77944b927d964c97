// Test-only: a real `gatehouse start` child process (auth + proxy + node in one) on free loopback
// ports with a temp config and data dir, driven through the real `gatectl` and `gate` binaries, so
// tests see exactly what users see. With topology "split" (or GATEHOUSE_TEST_TOPOLOGY=split) it
// is three processes instead — auth, then a proxy and a node joined with `gatectl tokens add`
// tokens — and the same tests run against that cluster. The cluster's integration tests, the client's integration
// tests, the e2e suite and the benchmarks all need this; it lives here, outside src-main and
// src-cluster and importing neither, because lint keeps those two sides from importing each other.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { cliSourceArgv, type CliName } from './cli-source.ts';

/** How long one process may take to say it runs: tsx compiles the daemon per process, over 60 s at load 30 on 2 cores. */
const START_TIMEOUT_MS = 120_000;

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

async function killHard(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
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
  /** "single": one process (default); "split": auth, proxy and node processes. Default from $GATEHOUSE_TEST_TOPOLOGY. */
  topology?: Topology;
  /** Give each process a diagnostics listener (--diag-addr on a free loopback port): see diagAddr(). */
  diagnostics?: boolean;
}

export type Topology = 'single' | 'split';

/** The topology tests run in unless they choose: $GATEHOUSE_TEST_TOPOLOGY, default single. */
export function defaultTopology(): Topology {
  const env = process.env.GATEHOUSE_TEST_TOPOLOGY;
  if (env === undefined || env === '' || env === 'single') return 'single';
  if (env === 'split') return 'split';
  throw new Error(`GATEHOUSE_TEST_TOPOLOGY must be "single" or "split", not "${env}"`);
}

type ServiceName = 'auth' | 'proxy' | 'node';

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
  /** Auth's own API listener (split topology only). */
  authAddr = '';
  readonly topology: Topology;
  private output = '';
  private child: ChildProcess | undefined;
  /** The three processes of the split topology. */
  private readonly services = new Map<ServiceName, ChildProcess>();
  /** Bumped by restartWithFreshData: each generation is a new data dir, so a new cluster with new CAs. */
  private generation = 0;
  private pinCache: { generation: number; pin: string } | undefined;
  /** Diagnostics listeners by process label ("gatehouse" when single). */
  private readonly diagAddrs = new Map<string, string>();
  /** Split topology: further joined processes (a second proxy, a db service) by label. */
  private readonly joined = new Map<string, ChildProcess>();

  constructor(private readonly opts: ClusterProcessOptions = {}) {
    this.clusterName = opts.clusterName ?? 'it';
    this.nodeName = opts.nodeName ?? 'node1';
    this.nodeLabels = opts.nodeLabels ?? { env: 'test' };
    this.topology = opts.topology ?? defaultTopology();
  }

  get dataDir(): string {
    return join(this.dir, this.generation === 0 ? 'data' : `data${this.generation}`);
  }

  /** The running daemon's process id (e.g. to read its memory from /proc). */
  get pid(): number | undefined {
    const child = this.topology === 'split' ? this.services.get('auth') : this.child;
    return child?.exitCode === null ? child.pid : undefined;
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

  /** /healthz, /readyz, /metrics of the process (split: of `service`); kept across restarts. */
  diagAddr(service: ServiceName = 'auth'): string {
    const addr = this.diagAddrs.get(this.topology === 'single' ? 'gatehouse' : service);
    if (!addr) throw new Error(`no diagnostics listener for ${service}: start the cluster with diagnostics: true`);
    return addr;
  }

  /** Everything the daemon printed so far, over all its runs. */
  get logs(): string {
    return this.output;
  }

  /** Starts the daemon (or, split, its three processes) and resolves once it says it is running. */
  async start(): Promise<void> {
    if (!this.proxyAddr) this.proxyAddr = `127.0.0.1:${await freePort()}`;
    if (!this.nodeAddr) this.nodeAddr = `127.0.0.1:${await freePort()}`;
    const cfgPath = join(this.dir, 'gatehouse.yaml');
    if (this.topology === 'single') {
      writeFileSync(cfgPath, this.config());
      this.child = await this.spawnDaemon('gatehouse', ['--config', cfgPath, '--data-dir', this.dataDir]);
      return;
    }
    if (!this.authAddr) this.authAddr = `127.0.0.1:${await freePort()}`;
    writeFileSync(cfgPath, this.config([`  listen_addr: ${this.authAddr}`]));
    await this.startService('auth');
    await this.startService('proxy');
    await this.startService('node');
  }

  /** Split topology: starts one service process (joining with a fresh token on its first start). */
  async startService(name: ServiceName): Promise<void> {
    const cfgPath = join(this.dir, 'gatehouse.yaml');
    const args = ['--config', cfgPath, `--roles=${name}`];
    if (name === 'auth') args.push('--data-dir', this.dataDir);
    else {
      const dataDir = this.serviceDataDir(name);
      args.push('--data-dir', dataDir, '--auth-server', this.authAddr);
      const env: Record<string, string> = {};
      if (!existsSync(join(dataDir, 'services', `${name}-identity.json`))) {
        // The token goes through the environment, as an admin would keep it out of argv.
        env.GATEHOUSE_JOIN_TOKEN = this.joinToken(name);
        args.push('--ca-pin', this.caPin);
      }
      this.services.set(name, await this.spawnDaemon(name, args, env));
      return;
    }
    this.services.set(name, await this.spawnDaemon(name, args));
  }

  /**
   * Split topology: one more process joined to auth, e.g. a second proxy (`roles: 'proxy'` with
   * its own `proxyAddr`) or a db service (`roles: 'db'`, its section in extraConfig). Its data
   * dir and config are its own; stop() stops it, crashJoined() kills it.
   */
  async startJoined(label: string, opts: { roles: 'proxy' | 'db' | 'app'; proxyAddr?: string }): Promise<void> {
    if (this.topology !== 'split') throw new Error('startJoined needs the split topology');
    const cfgPath = join(this.dir, `${label}.yaml`);
    const config = this.config([`  listen_addr: ${this.authAddr}`]);
    writeFileSync(
      cfgPath,
      // A second proxy needs its own name too: proxies register by name.
      opts.proxyAddr
        ? config.replace(`  listen_addr: ${this.proxyAddr}`, `  listen_addr: ${opts.proxyAddr}\n  name: ${label}`)
        : config,
    );
    const dataDir = join(this.dataDir, `${label}-service`);
    const args = ['--config', cfgPath, `--roles=${opts.roles}`, '--data-dir', dataDir, '--auth-server', this.authAddr];
    const env: Record<string, string> = {};
    if (!existsSync(join(dataDir, 'services', `${opts.roles}-identity.json`))) {
      env.GATEHOUSE_JOIN_TOKEN = this.joinToken(opts.roles);
      args.push('--ca-pin', this.caPin);
    }
    this.joined.set(label, await this.spawnDaemon(label, args, env));
  }

  /** kill -9 a process started with startJoined. */
  async crashJoined(label: string): Promise<void> {
    await killHard(this.joined.get(label));
  }

  /** Split topology: kill -9 one service process. */
  async crashService(name: ServiceName): Promise<void> {
    await killHard(this.services.get(name));
  }

  /** Split topology: where the proxy or node keeps its host identity. */
  serviceDataDir(name: 'proxy' | 'node'): string {
    return join(this.dataDir, `${name}-service`);
  }

  /** A single-use join token for `role` from `gatectl tokens add`. */
  joinToken(role: 'proxy' | 'node' | 'db' | 'app'): string {
    const r = this.setup(['tokens', 'add', `--type=${role}`]);
    const token = /--token[= ](\S+)/.exec(r.stdout)?.[1] ?? /token:\s*(\S+)/i.exec(r.stdout)?.[1];
    if (!token) throw new Error(`gatectl tokens add printed no token:\n${r.stdout}`);
    return token;
  }

  private config(authLines: string[] = []): string {
    const labels = Object.entries(this.nodeLabels);
    return [
      'version: v1',
      `cluster_name: ${this.clusterName}`,
      'auth:',
      `  second_factor: ${this.opts.secondFactor ?? 'off'}`,
      ...authLines,
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
  }

  /** Spawns `gatehouse start ARGS` and resolves once that process says it is running. */
  private async spawnDaemon(label: string, args: string[], env: Record<string, string> = {}): Promise<ChildProcess> {
    if (this.opts.diagnostics && !this.diagAddrs.has(label)) this.diagAddrs.set(label, `127.0.0.1:${await freePort()}`);
    if (this.diagAddrs.has(label)) args = [...args, '--diag-addr', this.diagAddrs.get(label)!];
    const child = spawn(
      process.execPath,
      [...(this.opts.nodeArgs ?? []), ...cliSourceArgv('gatehouse', ['start', ...args])],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
    );
    const prefix = this.topology === 'split' ? `[${label}] ` : '';
    let own = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Not left behind: nothing else knows this child, and its pipes would keep the test process alive.
        child.kill('SIGKILL');
        reject(new Error(`gatehouse (${label}) did not start within ${START_TIMEOUT_MS} ms:\n${own}`));
      }, START_TIMEOUT_MS);
      const onData = (d: Buffer) => {
        const text = d.toString();
        own += text;
        this.output += prefix ? text.replace(/^(?=.)/gm, prefix) : text;
        if (own.includes('gatehouse is running')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gatehouse (${label}) exited with ${code} before it was running:\n${own}`));
      });
    });
    return child;
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

  /** SIGTERM and wait; returns the exit code (split: the worst of the three). The temp dir stays, so it can start again. */
  async stop(): Promise<number | null> {
    if (this.topology === 'single') return stopChild(this.child);
    let worst: number | null = 0;
    for (const child of this.joined.values()) {
      const code = await stopChild(child);
      if (code !== 0 && child.signalCode === null) worst = code;
    }
    // Node and proxy first: they deregister from auth while it is still up.
    for (const name of ['node', 'proxy', 'auth'] as const) {
      const code = await stopChild(this.services.get(name));
      if (code !== 0) worst = code;
    }
    return worst;
  }

  /** kill -9: no shutdown code runs (fault tests); resolves once the process(es) are gone. */
  async crash(): Promise<void> {
    if (this.topology === 'single') return killHard(this.child);
    for (const child of this.services.values()) await killHard(child);
  }

  /** Stops it and removes its temp dir. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  gatectl(args: string[], input?: string, env?: Record<string, string>): CliResult {
    return this.run('gatectl', args, input, env);
  }

  gate(args: string[], input?: string, env?: Record<string, string>): CliResult {
    return this.run('gate', args, input, env);
  }

  /** The `gate` command line (after the node binary) for spawning it yourself, e.g. in a pty. */
  gateArgv(args: string[]): string[] {
    return cliSourceArgv('gate', args);
  }

  /**
   * A CA's certificate and key as auth keeps them (storage key /authorities/<type>, e.g. tls_user),
   * for tests that must forge or hand-make certificates; read-only, beside the running daemon.
   */
  storedAuthority(type: string): { certPem: string; keyPem: string } {
    const db = new Database(join(this.dataDir, 'gatehouse.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT value FROM kv WHERE key = ?').get(`/authorities/${type}`) as
        { value: string } | undefined;
      if (!row) throw new Error(`no CA ${type} in the cluster's storage`);
      return JSON.parse(row.value) as { certPem: string; keyPem: string };
    } finally {
      db.close();
    }
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

  private run(cli: CliName, args: string[], input = '', env: Record<string, string> = {}): CliResult {
    const r = spawnSync(process.execPath, cliSourceArgv(cli, args), {
      input,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, GATEHOUSE_DATA_DIR: this.dataDir, GATEHOUSE_HOME: this.home, ...env },
    });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }
}
