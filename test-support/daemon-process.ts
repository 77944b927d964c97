// Test-only: what both cluster harnesses (cluster-process.ts: one process or the split topology;
// ha-cluster.ts: two auth servers and two proxies on PostgreSQL) do the same way — the daemon's
// config file, spawning `gatehouse start` and waiting for it to say it runs, stopping and killing
// it, and running a CLI to completion. One copy, so a fix to start-up (a timeout, a port taken
// under us) reaches every topology. Imports neither src-main nor src-cluster (lint keeps them apart).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cliSourceArgv, type CliName } from './cli-source.ts';

export { freePort } from './free-port.ts';

/** How long one daemon process may take to say it runs: tsx compiles the daemon per process, over 60 s at load 30 on 2 cores. */
export const DAEMON_START_TIMEOUT_MS = 120_000;
/** A CLI run (gate, gatectl) longer than this is killed and fails: a hang guard (at load average 30 a gate login took over 60 s). */
const CLI_TIMEOUT_MS = 180_000;

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
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

/** kill -9: no shutdown code runs (fault tests); resolves once the process is gone. */
export async function killHard(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/** What a cluster's processes share in their config file; each harness fills in its topology. */
export interface DaemonConfig {
  clusterName: string;
  secondFactor?: 'off' | 'otp';
  /** Lines of the `storage:` section (indented by the caller); none = the SQLite default. */
  storage?: string[];
  /** Auth's own API listener; none = auth serves its API through the proxy only. */
  authListen?: string;
  proxyListen: string;
  proxyName?: string;
  nodeName: string;
  nodeListen: string;
  nodeLabels?: Record<string, string>;
  /** Extra lines for the `proxy:` / `node:` sections, e.g. `idle_timeout: 2s`. */
  proxyConfig?: string[];
  nodeConfig?: string[];
  /** YAML appended to the file. */
  extraConfig?: string;
}

export function daemonConfig(c: DaemonConfig): string {
  const labels = Object.entries(c.nodeLabels ?? {});
  return [
    'version: v1',
    `cluster_name: ${c.clusterName}`,
    ...(c.storage ? ['storage:', ...c.storage] : []),
    'auth:',
    `  second_factor: ${c.secondFactor ?? 'off'}`,
    ...(c.authListen ? [`  listen_addr: ${c.authListen}`] : []),
    'proxy:',
    `  listen_addr: ${c.proxyListen}`,
    ...(c.proxyName ? [`  name: ${c.proxyName}`] : []),
    ...(c.proxyConfig ?? []).map((l) => `  ${l}`),
    'node:',
    `  name: ${c.nodeName}`,
    `  listen_addr: ${c.nodeListen}`,
    ...(c.nodeConfig ?? []).map((l) => `  ${l}`),
    ...(labels.length ? ['  labels:', ...labels.map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)] : []),
    c.extraConfig ?? '',
    '',
  ].join('\n');
}

export interface SpawnDaemonOptions {
  /** Names the process in errors. */
  label: string;
  /** Arguments after `gatehouse start`. */
  args: string[];
  env?: Record<string, string>;
  /** Node flags before the script, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Everything the process prints, as it arrives. */
  onOutput: (text: string) => void;
}

/** Spawns `gatehouse start ARGS` and resolves once that process says it is running. */
export async function spawnDaemon(o: SpawnDaemonOptions): Promise<ChildProcess> {
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), ...cliSourceArgv('gatehouse', ['start', ...o.args])], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...o.env },
  });
  let own = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left behind: nothing else knows this child, and its pipes would keep the test process alive.
      child.kill('SIGKILL');
      reject(new Error(`gatehouse (${o.label}) did not start within ${DAEMON_START_TIMEOUT_MS} ms:\n${own}`));
    }, DAEMON_START_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      const text = d.toString();
      own += text;
      o.onOutput(text);
      if (own.includes('gatehouse is running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse (${o.label}) exited with ${code} before it was running:\n${own}${portHolders(own)}`));
    });
  });
  return child;
}

/** For a port taken under us (freePort's claim keeps other test processes off it, not other software): who holds it now. */
function portHolders(output: string): string {
  const port = /EADDRINUSE: address already in use \S+:(\d+)/.exec(output)?.[1];
  if (!port) return '';
  const ss = spawnSync('ss', ['-tanp'], { encoding: 'utf8' });
  return (ss.stdout ?? '')
    .split('\n')
    .filter((l) => l.includes(`:${port} `))
    .join('\n');
}

/** Runs `gate`/`gatectl` from source to completion with `env` over this process's environment. */
export function runCli(cli: CliName, args: string[], input: string, env: Record<string, string>): CliResult {
  const r = spawnSync(process.execPath, cliSourceArgv(cli, args), {
    input,
    encoding: 'utf8',
    timeout: CLI_TIMEOUT_MS,
    env: { ...process.env, ...env },
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
