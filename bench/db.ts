// npm run bench:db — what the database path costs, against the same PostgreSQL reached directly
// with TLS and a client certificate, in the same run on the same machine:
//   throughput: pgbench select-only (-S -c 8 -j 2 -T 20) through `gate proxy db` vs direct: TPS ratio
//               (goal ≥ 0.85)
//   setup:      connect + `select 1` + close, N times, p50/p95, gateway vs direct (goal ≤ 3 ms
//               added at p95), timed in-process by a minimal client (bench/db-pg-client.ts)
//   memory:     RSS growth per idle open gateway connection, in the daemon (proxy + db service)
//               and in the gateway process (goal < 200 KB)
// Not a test: it asserts nothing, it measures. When the cluster cannot serve databases (the
// gateway half fails to start), the direct half still runs and the reason is printed.
// Env: BENCH_DB_SECONDS (20), BENCH_DB_CLIENTS (8), BENCH_DB_THREADS (2), BENCH_DB_RUNS (1),
// BENCH_DB_CONNECTS (200), BENCH_DB_IDLE (50).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa, makeLeaf, type TestCert } from '../test-support/test-pki.ts';
import { PG_BINDIR, startPostgres, type PostgresServer } from '../test-support/databases/postgres.ts';
import { TestCluster } from '../src-cluster/integration/harness.ts';
import {
  dbResourceYaml,
  dbRoleYaml,
  dbServiceConfig,
  startGateway,
  type Gateway,
} from '../src-cluster/db/integration/db-fixture.ts';
import { openSession, timedSelectOne, type PgSession, type PgTarget } from './db-pg-client.ts';

const SECONDS = Number(process.env.BENCH_DB_SECONDS ?? 20);
const CLIENTS = Number(process.env.BENCH_DB_CLIENTS ?? 8);
const THREADS = Number(process.env.BENCH_DB_THREADS ?? 2);
const RUNS = Number(process.env.BENCH_DB_RUNS ?? 1);
const CONNECTS = Number(process.env.BENCH_DB_CONNECTS ?? 200);
// Below the gateway's default cap of 64 local connections (src-main/gateways/gateway.ts).
const IDLE = Number(process.env.BENCH_DB_IDLE ?? 50);
const DB = 'bench-pg';
const PASSWORD = 'bench-password-1';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;

/** The gateway half: a cluster with a db service, the database registered, `gate proxy db` running. */
interface GatewaySide {
  cluster: TestCluster;
  gateway: Gateway;
}

/** The cluster's database CA, so the same server also trusts the db service's client certs. */
async function startCluster(): Promise<{ cluster: TestCluster; dbCaPem: string }> {
  const cluster = new TestCluster({ clusterName: 'benchdb', nodeName: 'bench', extraConfig: await dbServiceConfig() });
  try {
    await cluster.start();
    const ca = cluster.gatectl(['auth', 'export', '--type', 'db-client']);
    if (ca.status !== 0 || !ca.stdout.includes('BEGIN CERTIFICATE')) {
      throw new Error(`gatectl auth export --type db-client: ${ca.stderr.trim() || ca.stdout.trim()}`);
    }
    return { cluster, dbCaPem: ca.stdout };
  } catch (e) {
    await cluster.destroy();
    throw e;
  }
}

async function startGatewaySide(cluster: TestCluster, pg: PostgresServer, serverCaPem: string): Promise<GatewaySide> {
  cluster.apply(
    dbResourceYaml({ name: DB, protocol: 'postgres', uri: `127.0.0.1:${pg.port}`, caCertPem: serverCaPem }),
  );
  cluster.apply(dbRoleYaml('bench-db', { dbUsers: ['alice'], dbNames: ['orders'] }));
  cluster.gatectl(['users', 'add', 'bench', '--roles=bench-db', '--password-stdin'], `${PASSWORD}\n`);
  const home = (who: string) => join(cluster.dir, `home-${who}`);
  const login = cluster.gate(
    ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', 'bench', '--password-stdin'],
    `${PASSWORD}\n`,
    { GATEHOUSE_HOME: home('bench') },
  );
  if (login.status !== 0) throw new Error(`gate login: ${login.stderr}`);
  const gateway = await startGateway({ cluster, home }, 'bench', DB, { dbUser: 'alice', dbName: 'orders' });
  return { cluster, gateway };
}

/** pgbench's TPS ("without initial connection time") for `conninfo`. */
function pgbench(conninfo: string, extra: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = ['-n', '-S', '-c', String(CLIENTS), '-j', String(THREADS), '-T', String(SECONDS), ...extra, conninfo];
    const child = spawn(join(PG_BINDIR, 'pgbench'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1];
      if (code !== 0 || !tps) reject(new Error(`pgbench exited ${code}:\n${out}`));
      else resolve(Number(tps));
    });
  });
}

function rssKiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** Opens IDLE sessions through the gateway; RSS growth per session of each process. */
async function memoryPerConnection(target: PgTarget, pids: Record<string, number | undefined>): Promise<void> {
  const settle = () => new Promise((r) => setTimeout(r, 1500));
  // Warm up: the first sessions load code paths, which is not per-connection cost.
  for (let i = 0; i < 5; i++) (await openSession(target)).close();
  await settle();
  const before = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, rssKiB(pid)]));
  const sessions: PgSession[] = [];
  try {
    for (let i = 0; i < IDLE; i++) sessions.push(await openSession(target));
  } catch (e) {
    console.log(`  session ${sessions.length + 1} of ${IDLE} failed: ${(e as Error).message}`);
  }
  const open = sessions.length;
  await settle();
  console.log(`memory per open gateway connection (${open} idle sessions, RSS growth / ${open}; goal < 200 KB):`);
  for (const [name, pid] of Object.entries(pids)) {
    const per = (rssKiB(pid) - before[name]!) / open;
    console.log(`  ${name.padEnd(28)} ${per.toFixed(1)} KB`);
  }
  for (const s of sessions) s.close();
}

async function setupTimes(target: PgTarget): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < CONNECTS; i++) times.push(await timedSelectOne(target));
  return times;
}

async function main(): Promise<void> {
  const ca = await makeCa('bench database CA');
  const serverCert = await makeLeaf(ca, { cn: 'localhost', ips: ['127.0.0.1'] });
  const alice: TestCert = await makeLeaf(ca, { cn: 'alice', client: true });
  let clusterSide: { cluster: TestCluster; dbCaPem: string } | undefined;
  let why = '';
  try {
    clusterSide = await startCluster();
  } catch (e) {
    why = (e as Error).message.split('\n').slice(0, 3).join(' ');
  }
  const pg = await startPostgres({
    serverCertPem: serverCert.certPem,
    serverKeyPem: serverCert.keyPem,
    // The bench's own CA for the direct client, the cluster's database CA for the db service.
    clientCaPem: [ca.certPem, clusterSide?.dbCaPem ?? ''].join('\n'),
    users: [{ name: 'alice' }],
    databases: [{ name: 'orders', owner: 'alice' }],
    maxConnections: IDLE + CLIENTS + 40,
  });
  let side: GatewaySide | undefined;
  try {
    if (clusterSide)
      side = await startGatewaySide(clusterSide.cluster, pg, ca.certPem).catch((e: Error) => {
        why = e.message.split('\n').slice(0, 3).join(' ');
        return undefined;
      });
    if (!side) console.log(`gateway half not run (the cluster cannot serve databases yet): ${why}\n`);
    const client = pg.clientFiles('alice', alice);
    const direct = pg.connectionString({ user: 'alice', database: 'orders', client });
    const viaGateway = side ? `host=127.0.0.1 port=${side.gateway.port} user=alice dbname=orders sslmode=disable` : '';
    const init = spawn(join(PG_BINDIR, 'pgbench'), ['-i', '-q', '-s', '1', direct], { stdio: 'ignore' });
    await new Promise((r) => init.once('exit', r));

    console.log(`pgbench -S -c ${CLIENTS} -j ${THREADS} -T ${SECONDS}, ${RUNS} run(s) each, alternating:`);
    const tps: { direct: number[]; gateway: number[] } = { direct: [], gateway: [] };
    for (let i = 0; i < RUNS; i++) {
      tps.direct.push(await pgbench(direct, []));
      if (side) tps.gateway.push(await pgbench(viaGateway, []));
    }
    console.log(`  direct (TLS, client cert): ${median(tps.direct).toFixed(0)} TPS`);
    if (side) {
      console.log(`  through gate proxy db:     ${median(tps.gateway).toFixed(0)} TPS`);
      console.log(`  ratio: ${(median(tps.gateway) / median(tps.direct)).toFixed(2)}x (goal ≥ 0.85x)`);
    }

    const directTarget: PgTarget = { host: '127.0.0.1', port: pg.port, user: 'alice', database: 'orders', tls: alice };
    const gwTarget: PgTarget | undefined = side
      ? { host: '127.0.0.1', port: side.gateway.port, user: 'alice', database: 'orders' }
      : undefined;
    console.log(`\nconnection setup (connect + select 1 + close), ${CONNECTS} each:`);
    const d = await setupTimes(directTarget);
    console.log(`  direct (TLS, client cert): p50 ${ms(pct(d, 50))}  p95 ${ms(pct(d, 95))}`);
    if (gwTarget) {
      const g = await setupTimes(gwTarget);
      console.log(`  through gate proxy db:     p50 ${ms(pct(g, 50))}  p95 ${ms(pct(g, 95))}`);
      console.log(
        `  added: p50 ${ms(pct(g, 50) - pct(d, 50))}  p95 ${ms(pct(g, 95) - pct(d, 95))} (goal ≤ 3 ms at p95)`,
      );
      console.log('');
      await memoryPerConnection(gwTarget, {
        'daemon (proxy + db service)': side!.cluster.pid,
        'gateway (gate proxy db)': side!.gateway.pid,
      });
    }
  } finally {
    await side?.gateway.stop();
    await clusterSide?.cluster.destroy();
    await pg.stop();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
