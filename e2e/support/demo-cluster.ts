// A real cluster for the e2e tests: `gatehouse start` (auth + proxy + node in one process) on free
// loopback ports with a temp data dir, set up with the real `gatectl`. The app under test talks to
// it exactly as it would to a production cluster.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;

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

export interface DemoClusterOptions {
  clusterName: string;
  nodeName: string;
  nodeLabels: Record<string, string>;
}

export interface ClusterUser {
  name: string;
  password: string;
  /** The OS login the node may use: the user running the tests (an unprivileged node allows only itself). */
  login: string;
}

export class DemoCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-cluster-'));
  readonly dataDir = join(this.dir, 'data');
  proxyAddr = '';
  private child?: ChildProcess;
  private output = '';

  constructor(readonly opts: DemoClusterOptions) {}

  get clusterName(): string {
    return this.opts.clusterName;
  }
  get nodeName(): string {
    return this.opts.nodeName;
  }
  get nodeLabels(): Record<string, string> {
    return this.opts.nodeLabels;
  }
  /** Everything the daemon printed so far. */
  get logs(): string {
    return this.output;
  }

  async start(): Promise<void> {
    this.proxyAddr = `127.0.0.1:${await freePort()}`;
    const nodeAddr = `127.0.0.1:${await freePort()}`;
    const config = [
      'version: v1',
      `cluster_name: ${this.opts.clusterName}`,
      'proxy:',
      `  listen_addr: ${this.proxyAddr}`,
      'node:',
      `  name: ${this.opts.nodeName}`,
      `  listen_addr: ${nodeAddr}`,
      '  labels:',
      ...Object.entries(this.opts.nodeLabels).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
      '',
    ].join('\n');
    const cfgPath = join(this.dir, 'gatehouse.yaml');
    writeFileSync(cfgPath, config);
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin/gatehouse.mjs'), 'start', '--config', cfgPath, '--data-dir', this.dataDir],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`gatehouse did not start within 30 s:\n${this.output}`)), 30_000);
      const onData = (d: Buffer) => {
        this.output += d.toString();
        if (this.output.includes('gatehouse is running')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`gatehouse exited with ${code} before it was running:\n${this.output}`));
      });
    });
  }

  /** Waits until the daemon's log (after `fromOffset`) matches. */
  async waitForLog(re: RegExp, fromOffset = 0, timeoutMs = 10_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.output.slice(fromOffset).match(re);
      if (m) return m;
      if (Date.now() > deadline) {
        throw new Error(`cluster log ${re} did not appear within ${timeoutMs} ms:\n${this.output.slice(fromOffset)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  gatectl(args: string[], input = ''): { status: number; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/gatectl.mjs'), ...args, '--data-dir', this.dataDir], {
      input,
      encoding: 'utf8',
      timeout: 60_000,
    });
    const result = { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    if (result.status !== 0) throw new Error(`gatectl ${args.join(' ')} failed (${result.status}):\n${r.stderr}`);
    return result;
  }

  /** Creates (or replaces) a resource from YAML text. */
  apply(yaml: string): void {
    const file = join(this.dir, `resource-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, yaml);
    this.gatectl(['create', '-f', file, '--force']);
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

  addUser(name: string, roles: string[]): ClusterUser {
    const password = `pw-${name}-${Math.random().toString(36).slice(2, 10)}`;
    const login = userInfo().username;
    this.gatectl(
      ['users', 'add', name, `--roles=${roles.join(',')}`, `--logins=${login}`, '--password-stdin'],
      `${password}\n`,
    );
    return { name, password, login };
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
