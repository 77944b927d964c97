// npm run bench:locks — how fast a new lock ends a live SSH session, with the proxy (+ auth) and
// the node in two separate `gatehouse start` processes sharing one SQLite database, so the lock
// travels the way it does in a split deployment: API write in the proxy process → events table →
// the node process's storage watch (poll) → its LockWatcher → the connection is told and closed.
//   lock → closed:  a live `gate ssh NODE 'echo started; sleep 300'` (a real client through the
//                   proxy); t0 when the admin API's create call for a user lock returns (the lock is
//                   committed), t1 when the client's stdout/stderr close (it saw the message and the
//                   connection end). The client had printed the lock message before.
//   baseline:       the same session shape ended by the client itself: the remote `head -c1` gets one
//                   byte on stdin and exits; t0 at the write, t1 when the client's pipes close. This
//                   is the node → proxy → client teardown path without any lock propagation.
// p50/p99 over BENCH_LOCK_RUNS (default 50) each. Not a test; it stops with an error when a trial
// does not end as expected.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { freePort, ROOT, stopChild } from '../test-support/cluster-process.ts';
import { adminClient } from '../src-cluster/cli/admin-client.ts';

const RUNS = Number(process.env.BENCH_LOCK_RUNS ?? 50);
const LOGIN = userInfo().username;
const NODE = 'bench-lock-node';

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const line = (label: string, v: number[]) =>
  `${label.padEnd(44)} p50 ${ms(pct(v, 50)).padStart(7)}  p99 ${ms(pct(v, 99)).padStart(7)}  max ${ms(Math.max(...v)).padStart(7)}`;

async function startDaemon(
  dir: string,
  name: string,
  config: string,
): Promise<{ child: ChildProcess; logs: () => string }> {
  const cfgPath = join(dir, `${name}.yaml`);
  writeFileSync(cfgPath, config);
  const child = spawn(process.execPath, [join(ROOT, 'bin/gatehouse.mjs'), 'start', '--config', cfgPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('gatehouse is running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${name} exited with ${code}:\n${out}`)));
  });
  return { child, logs: () => out };
}

interface Live {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  closed: Promise<number>;
}

/** A `gate ssh` whose remote command prints "started" and then waits; resolves once it printed. */
async function liveSession(env: NodeJS.ProcessEnv, command: string): Promise<Live> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/gate.mjs'), 'ssh', `${LOGIN}@${NODE}`, command], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close': both pipes ended, i.e. the client is done with the connection.
  const closed = new Promise<number>((resolve) => child.once('close', () => resolve(performance.now())));
  const deadline = Date.now() + 20_000;
  while (!stdout.includes('started')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`session did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { child, stdout: () => stdout, stderr: () => stderr, closed };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-locks-'));
  const dataDir = join(dir, 'data');
  const dbPath = join(dataDir, 'gatehouse.db');
  const proxyAddr = `127.0.0.1:${await freePort()}`;
  const nodeAddr = `127.0.0.1:${await freePort()}`;
  const common = ['version: v1', 'cluster_name: bench-locks', `data_dir: ${dataDir}`, 'storage:', `  path: ${dbPath}`];
  const daemons: ChildProcess[] = [];
  try {
    const proxy = await startDaemon(
      dir,
      'proxy',
      [...common, 'proxy:', `  listen_addr: ${proxyAddr}`, 'node:', '  enabled: false', ''].join('\n'),
    );
    daemons.push(proxy.child);
    const node = await startDaemon(
      dir,
      'node',
      [...common, 'proxy:', '  enabled: false', 'node:', `  name: ${NODE}`, `  listen_addr: ${nodeAddr}`, ''].join(
        '\n',
      ),
    );
    daemons.push(node.child);
    console.log(`proxy+auth pid ${proxy.child.pid}, node pid ${node.child.pid}, one database ${dbPath}`);

    const env = { ...process.env, GATEHOUSE_DATA_DIR: dataDir, GATEHOUSE_HOME: join(dir, 'home') };
    const run = (bin: string, args: string[], input = '') => {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin', bin), ...args], { env, input, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed: ${r.stderr}`);
      return r.stdout;
    };
    run(
      'gatectl.mjs',
      ['users', 'add', 'bench', '--roles=access', `--logins=${LOGIN}`, '--password-stdin'],
      'bench-password-1\n',
    );
    // Pinned like a user told the CA fingerprint by their admin (`gatectl status`, tls_host).
    const caPin = /tls_host\s+(SHA256:[0-9a-f]{64})/.exec(run('gatectl.mjs', ['status']))?.[1] ?? 'missing';
    run(
      'gate.mjs',
      ['login', '--proxy', proxyAddr, '--ca-pin', caPin, '--user', 'bench', '--password-stdin'],
      'bench-password-1\n',
    );
    const admin = adminClient({ dataDir });

    const locked: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      // Baseline: the client ends its own session.
      const own = await liveSession(env, 'echo started; head -c1 >/dev/null');
      const b0 = performance.now();
      own.child.stdin!.end('x');
      baseline.push((await own.closed) - b0);

      const live = await liveSession(env, 'echo started; sleep 300');
      const doc = {
        kind: 'lock',
        version: 'v2',
        metadata: {},
        spec: { target: { user: 'bench' }, message: `trial ${i}` },
      };
      const res = await admin.createResource({ resourceJson: JSON.stringify(doc), upsert: false });
      const t0 = performance.now();
      const t1 = await Promise.race([live.closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
      live.child.kill('SIGKILL');
      if (t1 < 0) throw new Error(`trial ${i}: the session was not closed within 10 s`);
      if (!live.stderr().includes(`lock targeting User:"bench" is in force: trial ${i}`)) {
        throw new Error(`trial ${i}: the client did not show the lock message: ${live.stderr()}`);
      }
      locked.push(t1 - t0);
      const name = (JSON.parse(res.resourceJson) as { metadata: { name: string } }).metadata.name;
      await admin.deleteResource({ kind: 'lock', name });
    }
    console.log(`${RUNS} trials each, proxy and node in separate processes:`);
    console.log(line('lock created → live session closed', locked));
    console.log(line('baseline: session ended by the client itself', baseline));
  } finally {
    for (const d of daemons.reverse()) await stopChild(d);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:locks failed: ${(e as Error).message}`);
  process.exitCode = 1;
});
