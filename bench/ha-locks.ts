// npm run bench:ha-locks — issue 17's "lock propagation across auth servers p99 < 1 s" at the
// cluster level: the HA topology (test-support/ha-cluster.ts: auth A and auth B on one PostgreSQL
// 15, proxy 1, proxy 2 and the node; proxy 2 and the node watch auth B) with a live
// `gate ssh NODE 'echo started; sleep 300'` through proxy 2 per trial.
//   across auth servers: the lock is created through auth A's admin API; t0 when the call returns
//                        (committed), t1 when the client's pipes close (it printed the lock
//                        message and the connection ended). The lock travels A → PostgreSQL
//                        (NOTIFY) → auth B's watcher → the node's watch → the session.
//   baseline:            the same, the lock created through auth B, the auth server the node
//                        watches: everything but the hop between auth servers.
//   added by the hop:    across minus baseline, p50 (the cross-process watcher lag as a session
//                        sees it; auth B also reports it as gatehouse_watcher_lag_seconds{writer="another_process"}).
// Trials interleave the two kinds. p50/p99 over BENCH_HA_LOCK_RUNS (20) each. Not a test: it
// asserts nothing; it stops with an error when a trial does not end as expected.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { performance } from 'node:perf_hooks';
import { HaCluster } from '../test-support/ha-cluster.ts';
import { startStoragePostgres } from '../test-support/databases/storage-postgres.ts';
import { adminClient, type AuthClient } from '../src-cluster/cli/admin-client.ts';
import { ms, pct } from './device-login.ts';

const RUNS = Number(process.env.BENCH_HA_LOCK_RUNS ?? 20);
const LOGIN = userInfo().username;
const NODE = 'bench-ha-node';
const TRIAL_TIMEOUT_MS = 10_000;

interface Live {
  child: ChildProcess;
  stderr: () => string;
  closed: Promise<number>;
}

/** A `gate ssh` through proxy 2 whose remote command prints "started" and waits; resolves once it printed. */
async function liveSession(cluster: HaCluster): Promise<Live> {
  const child = spawn(process.execPath, cluster.gateArgv(['ssh', `${LOGIN}@${NODE}`, 'echo started; sleep 300']), {
    env: cluster.gateEnv('bench'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close': both pipes ended, i.e. the client is done with the connection.
  const closed = new Promise<number>((resolve) => child.once('close', () => resolve(performance.now())));
  const deadline = Date.now() + 60_000;
  while (!stdout.includes('started')) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`session did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return { child, stderr: () => stderr, closed };
}

/** One trial: a lock on the bench user through `admin`; ms from its commit to the session closed. */
async function trial(cluster: HaCluster, admin: AuthClient, label: string): Promise<number> {
  const live = await liveSession(cluster);
  const doc = { kind: 'lock', version: 'v2', metadata: {}, spec: { target: { user: 'bench' }, message: label } };
  const res = await admin.createResource({ resourceJson: JSON.stringify(doc), upsert: false });
  const t0 = performance.now();
  const t1 = await Promise.race([live.closed, new Promise<number>((r) => setTimeout(() => r(-1), TRIAL_TIMEOUT_MS))]);
  live.child.kill('SIGKILL');
  if (t1 < 0) throw new Error(`${label}: the session was not closed within ${TRIAL_TIMEOUT_MS} ms`);
  if (!live.stderr().includes(`lock targeting User:"bench" is in force: ${label}`))
    throw new Error(`${label}: the client did not show the lock message: ${live.stderr()}`);
  const name = (JSON.parse(res.resourceJson) as { metadata: { name: string } }).metadata.name;
  await admin.deleteResource({ kind: 'lock', name });
  return t1 - t0;
}

function row(label: string, v: number[], goal = ''): string {
  return `${label.padEnd(44)} p50 ${ms(pct(v, 50)).padStart(8)}  p99 ${ms(pct(v, 99)).padStart(8)}  max ${ms(Math.max(...v)).padStart(8)}  ${goal}`;
}

function must(r: { status: number; stdout: string; stderr: string }, what: string): string {
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stdout}${r.stderr}`);
  return r.stdout;
}

async function main(): Promise<void> {
  const pg = await startStoragePostgres();
  const cluster = new HaCluster({ clusterName: 'bench-ha-locks', nodeName: NODE, storageUrl: pg.freshDatabase('hl') });
  try {
    await cluster.start();
    const role = join(cluster.dir, 'role.yaml');
    writeFileSync(
      role,
      `kind: role\nversion: v7\nmetadata: { name: bench }\nspec:\n  allow:\n    logins: [${LOGIN}]\n    node_labels: { '*': '*' }\n`,
    );
    must(cluster.gatectl(['create', '-f', role]), 'create role');
    const password = 'bench-password-1';
    must(
      cluster.gatectl(
        ['users', 'add', 'bench', '--roles=bench', `--logins=${LOGIN}`, '--password-stdin'],
        'authA',
        `${password}\n`,
      ),
      'users add',
    );
    const proxy2 = cluster.addr.get('proxy2')!;
    must(
      cluster.gate(
        'bench',
        ['login', '--proxy', proxy2, '--ca-pin', cluster.caPin, '--user', 'bench', '--password-stdin'],
        `${password}\n`,
      ),
      'gate login',
    );
    const admin = (via: 'authA' | 'authB') =>
      adminClient({ dataDir: cluster.dataDir(via), auth: cluster.addr.get(via)! });
    const [viaA, viaB] = [admin('authA'), admin('authB')];
    await trial(cluster, viaB, 'warm-up'); // first session: the node's and proxy's first dial, caches
    const across: number[] = [];
    const same: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      across.push(await trial(cluster, viaA, `across ${i}`));
      same.push(await trial(cluster, viaB, `same ${i}`));
    }
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`${RUNS} trials each, interleaved; session through proxy 2 (watching auth B); load average ${load}`);
    console.log(row('lock via auth A → session cut (across)', across, 'goal p99 < 1000 ms'));
    console.log(row('baseline: lock via auth B → session cut', same));
    console.log(
      `added by the hop between auth servers (across − baseline): p50 ${ms(pct(across, 50) - pct(same, 50))}, ` +
        `p99 ${ms(pct(across, 99) - pct(same, 99))}; ratio p50 ${(pct(across, 50) / pct(same, 50)).toFixed(2)}x`,
    );
  } finally {
    await cluster.destroy();
    await pg.stop();
  }
}

main().catch((e: unknown) => {
  console.error(`bench:ha-locks failed: ${(e as Error).stack ?? String(e)}`);
  process.exitCode = 1;
});
