// Test-only: the high-availability topology of issue 17 as real processes on loopback — two auth
// servers on one PostgreSQL database, two proxies and a node that each know both auth addresses —
// driven through the real `gatehouse`, `gatectl` and `gate` binaries. Each process can be killed
// with SIGKILL and started again on the same address and data dir. Like cluster-process.ts it
// imports neither src-main nor src-cluster (lint keeps those two sides apart).
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { awaitApplied, type CacheChange } from './cache-sync.ts';
import { cliSourceArgv } from './cli-source.ts';
import {
  daemonConfig,
  freePort,
  killHard,
  runCli,
  spawnDaemon,
  stopChild,
  type CliResult,
  type DaemonConfig,
} from './daemon-process.ts';

export type HaProcess = 'authA' | 'authB' | 'proxy1' | 'proxy2' | 'node';
type HaAuth = 'authA' | 'authB';

/** What every process's config shares beyond the topology (see DaemonConfig); the suites' options pass through. */
export type HaClusterOptions = Pick<
  DaemonConfig,
  'clusterName' | 'nodeName' | 'secondFactor' | 'nodeLabels' | 'proxyConfig' | 'nodeConfig' | 'extraConfig'
> & {
  /** The verify-full postgres:// URL both auth servers share. */
  storageUrl: string;
  /** Give every process a diagnostics listener (/healthz, /readyz, /metrics); see diagAddr. */
  diagnostics?: boolean;
};

export class HaCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'gatehouse-ha-'));
  readonly addr = new Map<HaProcess, string>();
  readonly #diagAddr = new Map<HaProcess, string>();
  #output = '';
  readonly #children = new Map<HaProcess, ChildProcess>();
  #pin = '';

  constructor(readonly opts: HaClusterOptions) {}

  get logs(): string {
    return this.#output;
  }

  /**
   * auth A, then auth B (both on the database), then the proxies and the node joined with tokens;
   * resolves once both proxies can route to the node (see awaitNodeRoutable).
   */
  async start(): Promise<void> {
    for (const p of ['authA', 'authB', 'proxy1', 'proxy2', 'node'] as const) {
      this.addr.set(p, `127.0.0.1:${await freePort()}`);
      if (this.opts.diagnostics) this.#diagAddr.set(p, `127.0.0.1:${await freePort()}`);
    }
    for (const p of ['authA', 'authB', 'proxy1', 'proxy2'] as const) await this.startProcess(p);
    const beforeNode = this.#output.length;
    await this.startProcess('node');
    await this.awaitNodeRoutable(beforeNode);
  }

  /**
   * The node says it runs once its first heartbeat reached auth B; proxy 1 (on auth A) learns of
   * it only after PostgreSQL's change feed carried it across, and proxy 2 after B's watch stream.
   * Until then `gate ssh` through that proxy answers 'node "…" not found', so the topology is
   * ready only once both proxies' copies hold the node (logged after offset `from`).
   */
  awaitNodeRoutable(from: number): Promise<void> {
    return this.awaitCachesApplied({ kind: 'node', name: this.opts.nodeName, type: 'put' }, from);
  }

  /** Resolves once every process that decides from a copy or view of `change.kind` applied it; see cache-sync.ts. */
  awaitCachesApplied(change: CacheChange, from: number): Promise<void> {
    const topology = { proxies: ['proxy1', 'proxy2'], nodes: ['node'], auths: ['authA', 'authB'] };
    return awaitApplied(() => this.#output, topology, change, from);
  }

  /** The diagnostics listener of `p` (host:port); only with the diagnostics option. */
  diagAddr(p: HaProcess): string {
    const addr = this.#diagAddr.get(p);
    if (!addr) throw new Error(`${p} has no diagnostics listener: start the HaCluster with diagnostics: true`);
    return addr;
  }

  dataDir(p: HaProcess): string {
    return join(this.dir, `data-${p}`);
  }

  /**
   * The auth order each service is given: proxy1 prefers A, proxy2 and the node prefer B, so a
   * change made through A reaches proxy2 and the node only across the database's change feed.
   */
  authOrder(p: 'proxy1' | 'proxy2' | 'node'): string[] {
    const [a, b] = [this.addr.get('authA')!, this.addr.get('authB')!];
    return p === 'proxy1' ? [a, b] : [b, a];
  }

  async startProcess(p: HaProcess): Promise<void> {
    const cfgPath = join(this.dir, `${p}.yaml`);
    writeFileSync(cfgPath, this.#config(p));
    const role = p.startsWith('auth') ? 'auth' : p.startsWith('proxy') ? 'proxy' : 'node';
    // --debug: the "applied" lines awaitCachesApplied waits for are debug lines.
    const args = ['--config', cfgPath, `--roles=${role}`, '--data-dir', this.dataDir(p), '--debug'];
    const env: Record<string, string> = {};
    if (role !== 'auth') {
      // Repeated flags, as an operator would write them; the config form is tested in config.test.ts.
      for (const a of this.authOrder(p as 'proxy1' | 'proxy2' | 'node')) args.push('--auth-server', a);
      if (!existsSync(join(this.dataDir(p), 'services', `${role}-identity.json`))) {
        env.GATEHOUSE_JOIN_TOKEN = this.joinToken(role as 'proxy' | 'node');
        args.push('--ca-pin', this.caPin);
      }
    }
    this.#children.set(p, await this.#spawn(p, args, env));
  }

  /** kill -9: no shutdown code runs; resolves once the process is gone. */
  async kill(p: HaProcess): Promise<void> {
    await killHard(this.#children.get(p));
  }

  /** SIGTERM to each, services first (they deregister while auth is up); the worst exit code. */
  async stop(): Promise<number | null> {
    let worst: number | null = 0;
    for (const p of ['node', 'proxy1', 'proxy2', 'authB', 'authA'] as const) {
      const code = await stopChild(this.#children.get(p));
      if (code !== 0) worst = code;
    }
    return worst;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** gatectl as the admin, through the auth server `via` (its own data dir's admin identity). */
  gatectl(args: string[], via: HaAuth = 'authA', input = ''): CliResult {
    return this.#run('gatectl', ['--auth', this.addr.get(via)!, ...args], input, {
      GATEHOUSE_DATA_DIR: this.dataDir(via),
    });
  }

  /** The gatectl command line (after the node binary) for spawning it yourself, with gatectlEnv(via). */
  gatectlArgv(args: string[], via: HaAuth): string[] {
    return cliSourceArgv('gatectl', ['--auth', this.addr.get(via)!, ...args]);
  }

  gatectlEnv(via: HaAuth): NodeJS.ProcessEnv {
    return { ...process.env, GATEHOUSE_DATA_DIR: this.dataDir(via) };
  }

  /** Waits until the log of all processes (from offset `from`) matches. */
  async waitForLog(re: RegExp, timeoutMs = 10_000, from = 0): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.#output.slice(from).match(re);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`log line ${re} did not appear within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** gate with its own GATEHOUSE_HOME (one per simulated user machine). */
  gate(home: string, args: string[], input = ''): CliResult {
    return this.#run('gate', args, input, { GATEHOUSE_HOME: join(this.dir, home) });
  }

  gateArgv(args: string[]): string[] {
    return cliSourceArgv('gate', args);
  }

  gateEnv(home: string): NodeJS.ProcessEnv {
    return { ...process.env, GATEHOUSE_HOME: join(this.dir, home) };
  }

  get caPin(): string {
    if (this.#pin) return this.#pin;
    const r = this.gatectl(['status']);
    const pin = /tls_host\s+(SHA256:[0-9a-f]{64})/.exec(r.stdout)?.[1];
    if (!pin) throw new Error(`gatectl status printed no tls_host fingerprint (${r.status}):\n${r.stdout}${r.stderr}`);
    this.#pin = pin;
    return pin;
  }

  joinToken(role: 'proxy' | 'node'): string {
    const r = this.gatectl(['tokens', 'add', `--type=${role}`]);
    const token = /--token[= ](\S+)/.exec(r.stdout)?.[1] ?? /token:\s*(\S+)/i.exec(r.stdout)?.[1];
    if (!token) throw new Error(`gatectl tokens add printed no token (${r.status}):\n${r.stdout}${r.stderr}`);
    return token;
  }

  #config(p: HaProcess): string {
    const { storageUrl, diagnostics, ...shared } = this.opts;
    const diag = diagnostics ? `diagnostics:\n  listen_addr: ${this.diagAddr(p)}\n` : '';
    return daemonConfig({
      ...shared,
      extraConfig: [shared.extraConfig ?? '', diag].filter(Boolean).join('\n'),
      storage: ['  type: postgres', `  conn_string: ${JSON.stringify(storageUrl)}`, '  audit: { type: postgres }'],
      authListen: p.startsWith('auth') ? this.addr.get(p) : undefined,
      // Only a proxy process serves its proxy section; the others get a throwaway listener.
      proxyListen: p.startsWith('proxy') ? this.addr.get(p)! : '127.0.0.1:0',
      proxyName: p.startsWith('proxy') ? p : 'unused',
      nodeListen: this.addr.get('node')!,
    });
  }

  async #spawn(label: HaProcess, args: string[], env: Record<string, string>): Promise<ChildProcess> {
    const onOutput = (text: string) => (this.#output += text.replace(/^(?=.)/gm, `[${label}] `));
    return spawnDaemon({ label, args, env, onOutput });
  }

  #run(cli: 'gate' | 'gatectl', args: string[], input: string, env: Record<string, string>): CliResult {
    return runCli(cli, args, input, env);
  }
}
