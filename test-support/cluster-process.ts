// Test-only: a real `gatehouse start` child process (auth + proxy + node in one) on free loopback
// ports with a temp config and data dir, driven through the real `gatectl` and `gate` binaries, so
// tests see exactly what users see. The same tests run against other topologies, chosen by the
// topology option or GATEHOUSE_TEST_TOPOLOGY: "split" is three processes on SQLite — auth, then a
// proxy and a node joined with `gatectl tokens add` tokens; "ha" is issue 17's high-availability
// cluster (ha-cluster.ts) — two auth servers on one PostgreSQL 15 started here, two proxies and a
// node — with gatectl talking to auth A and clients given proxy 2 first (its auth is B), so every
// change a test makes crosses the database's change feed before it can take effect. The cluster's
// integration tests, the client's integration tests, the e2e suite and the benchmarks all need
// this; it lives here, outside src-main and src-cluster and importing neither, because lint keeps
// those two sides from importing each other.
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { awaitApplied, type CacheChange } from './cache-sync.ts';
import { cliSourceArgv, type CliName } from './cli-source.ts';
import { daemonConfig, freePort, killHard, runCli, spawnDaemon, stopChild, type CliResult } from './daemon-process.ts';
import { startStoragePostgres, type StoragePostgres } from './databases/storage-postgres.ts';
import { HaCluster } from './ha-cluster.ts';

export { freePort, stopChild, type CliResult } from './daemon-process.ts';

/** The repository root (with a trailing slash). */
export const ROOT = fileURLToPath(new URL('../', import.meta.url));

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
  /**
   * "single": one process (default); "split": auth, proxy and node processes; "ha": two auth
   * servers on PostgreSQL, two proxies and a node. Default from $GATEHOUSE_TEST_TOPOLOGY.
   */
  topology?: Topology;
  /** Give each process a diagnostics listener (--diag-addr on a free loopback port): see diagAddr(). */
  diagnostics?: boolean;
}

export type Topology = 'single' | 'split' | 'ha';

/** The topology tests run in unless they choose: $GATEHOUSE_TEST_TOPOLOGY, default single. */
export function defaultTopology(): Topology {
  const env = process.env.GATEHOUSE_TEST_TOPOLOGY;
  if (env === undefined || env === '' || env === 'single') return 'single';
  if (env === 'split' || env === 'ha') return env;
  throw new Error(`GATEHOUSE_TEST_TOPOLOGY must be "single", "split" or "ha", not "${env}"`);
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
  /** Auth's own API listener (split: the one auth; ha: auth A, the one gatectl talks to). */
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
  /** The ha topology's processes and the PostgreSQL server they share. */
  private ha: HaCluster | undefined;
  private postgres: StoragePostgres | undefined;

  constructor(private readonly opts: ClusterProcessOptions = {}) {
    this.clusterName = opts.clusterName ?? 'it';
    this.nodeName = opts.nodeName ?? 'node1';
    this.nodeLabels = opts.nodeLabels ?? { env: 'test' };
    this.topology = opts.topology ?? defaultTopology();
  }

  get dataDir(): string {
    // ha: auth A's, where its admin identity is (gatectl's credentials).
    if (this.ha) return this.ha.dataDir('authA');
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
    if (this.topology === 'ha') throw new Error('the ha topology has no diagnostics listeners (see ha-cluster.ts)');
    const addr = this.diagAddrs.get(this.topology === 'single' ? 'gatehouse' : service);
    if (!addr) throw new Error(`no diagnostics listener for ${service}: start the cluster with diagnostics: true`);
    return addr;
  }

  /** Everything the daemon printed so far, over all its runs. */
  get logs(): string {
    return this.ha ? this.ha.logs : this.output;
  }

  /** Starts the daemon (or, split, its three processes) and resolves once it says it is running. */
  async start(): Promise<void> {
    if (!this.proxyAddr) this.proxyAddr = `127.0.0.1:${await freePort()}`;
    if (!this.nodeAddr) this.nodeAddr = `127.0.0.1:${await freePort()}`;
    if (this.topology === 'ha') return this.startHa();
    const cfgPath = join(this.dir, 'gatehouse.yaml');
    if (this.topology === 'single') {
      writeFileSync(cfgPath, this.config());
      this.child = await this.spawnDaemon('gatehouse', ['--config', cfgPath, '--data-dir', this.dataDir]);
      return;
    }
    if (!this.authAddr) this.authAddr = `127.0.0.1:${await freePort()}`;
    writeFileSync(cfgPath, this.config(this.authAddr));
    await this.startService('auth');
    await this.startService('proxy');
    const beforeNode = this.output.length;
    await this.startService('node');
    // The node runs once auth has its heartbeat; the proxy routes to it once its copy has it.
    await this.awaitApplied({ kind: 'node', name: this.nodeName, type: 'put' }, beforeNode);
  }

  /**
   * Resolves once every process deciding from a copy (proxies, node) or view (auth's locks) of
   * `change.kind` has applied the change (test-support/cache-sync.ts): take `from` as
   * `logs.length` before the write. A single process decides from its own storage, written
   * before gatectl gets its answer, so there it resolves at once.
   */
  async awaitApplied(change: CacheChange, from: number): Promise<void> {
    if (this.ha) return this.ha.awaitCachesApplied(change, from);
    if (this.topology !== 'split') return;
    await awaitApplied(() => this.output, { proxies: ['proxy'], nodes: ['node'], auths: ['auth'] }, change, from);
  }

  /**
   * ha: PostgreSQL (once), then the five processes on a fresh database; on a later start (after
   * stop) the same processes again on their addresses and data dirs.
   */
  private async startHa(): Promise<void> {
    if (this.ha) {
      const from = this.ha.logs.length;
      for (const p of ['authA', 'authB', 'proxy1', 'proxy2', 'node'] as const) await this.ha.startProcess(p);
      return this.ha.awaitNodeRoutable(from);
    }
    this.postgres = await startStoragePostgres();
    const storageUrl = this.postgres.freshDatabase(this.clusterName.toLowerCase().replace(/\W/g, '_'));
    const ha = new HaCluster({ ...this.sharedConfig(), storageUrl });
    this.ha = ha;
    await ha.start();
    // Clients try proxy 2 first (it and the node prefer auth B); gatectl writes through auth A.
    this.proxyAddr = `${ha.addr.get('proxy2')},${ha.addr.get('proxy1')}`;
    this.nodeAddr = ha.addr.get('node')!;
    this.authAddr = ha.addr.get('authA')!;
  }

  /** Split topology: starts one service process (joining with a fresh token on its first start). */
  async startService(name: ServiceName): Promise<void> {
    if (this.topology !== 'split') throw new Error(`startService is for the split topology, not ${this.topology}`);
    const cfgPath = join(this.dir, 'gatehouse.yaml');
    // --debug: the caches and lock views log each change they apply (awaitApplied).
    const args = ['--config', cfgPath, `--roles=${name}`, '--debug'];
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
    const config = this.config(this.authAddr);
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
    if (this.topology !== 'split') throw new Error(`crashService is for the split topology, not ${this.topology}`);
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

  /** What every topology's config says the same way (the options the test chose). */
  private sharedConfig() {
    const { secondFactor, proxyConfig, nodeConfig, extraConfig } = this.opts;
    const { clusterName, nodeName, nodeLabels } = this;
    return { clusterName, nodeName, nodeLabels, secondFactor, proxyConfig, nodeConfig, extraConfig };
  }

  private config(authListen?: string): string {
    return daemonConfig({ ...this.sharedConfig(), authListen, proxyListen: this.proxyAddr, nodeListen: this.nodeAddr });
  }

  /** Spawns `gatehouse start ARGS` and resolves once that process says it is running. */
  private async spawnDaemon(label: string, args: string[], env: Record<string, string> = {}): Promise<ChildProcess> {
    if (this.opts.diagnostics && !this.diagAddrs.has(label)) this.diagAddrs.set(label, `127.0.0.1:${await freePort()}`);
    if (this.diagAddrs.has(label)) args = [...args, '--diag-addr', this.diagAddrs.get(label)!];
    const prefix = this.topology === 'split' ? `[${label}] ` : '';
    const onOutput = (text: string) => (this.output += prefix ? text.replace(/^(?=.)/gm, prefix) : text);
    return spawnDaemon({ label, args, env, nodeArgs: this.opts.nodeArgs, onOutput });
  }

  /** Stops it and starts a new cluster (new data dir, so new CAs) on the same addresses. */
  async restartWithFreshData(): Promise<void> {
    if (this.topology === 'ha') throw new Error('restartWithFreshData is not built for the ha topology');
    await this.stop();
    this.generation++;
    await this.start();
  }

  /** Waits until the daemon's log after offset `from` (e.g. an earlier `logs.length`) matches. */
  async waitForLog(re: RegExp, timeoutMs = 10_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.logs.slice(from).match(re);
      if (m) return m;
      if (Date.now() > deadline) {
        throw new Error(`log line ${re} did not appear within ${timeoutMs} ms:\n${this.logs.slice(from)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM and wait; returns the exit code (split: the worst of the three). The temp dir stays, so it can start again. */
  async stop(): Promise<number | null> {
    if (this.topology === 'single') return stopChild(this.child);
    if (this.topology === 'ha') return (await this.ha?.stop()) ?? null;
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
    if (this.ha) {
      for (const p of ['authA', 'authB', 'proxy1', 'proxy2', 'node'] as const) await this.ha.kill(p);
      return;
    }
    for (const child of this.services.values()) await killHard(child);
  }

  /** Stops it and removes its temp dir. */
  async destroy(): Promise<void> {
    await this.stop();
    await this.ha?.destroy();
    await this.postgres?.stop();
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
    if (this.topology === 'ha') throw new Error('storedAuthority reads SQLite; the ha topology stores in PostgreSQL');
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
    // ha: gatectl names auth A itself (each auth server's data dir holds its own admin identity).
    const authArgs = cli === 'gatectl' && this.ha ? ['--auth', this.authAddr] : [];
    return runCli(cli, [...authArgs, ...args], input, {
      GATEHOUSE_DATA_DIR: this.dataDir,
      GATEHOUSE_HOME: this.home,
      ...env,
    });
  }
}
