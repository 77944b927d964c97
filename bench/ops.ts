// npm run bench:ops — what the operations instrumentation (issue 17 item 5) costs.
//   login:   AuthServer.login (password check, certificate issue, audit events) over a real SQLite
//            file, p50/p95 over RUNS logins, interleaved login by login between two auth servers
//            built alike in this process: one on the plain Backend and AuditLog (baseline), one
//            through MeteredBackend and MeteredAuditLog (Gatehouse, what the daemon runs)
//   get:     one Backend.get of a present key, plain vs metered (the decorator's per-call cost)
//   scrape:  GET /metrics from the diagnostics listener over loopback HTTP after the logins
//            (every series filled), against GET /healthz on the same listener (baseline: the
//            HTTP round trip without the exposition)
// Prints baseline, Gatehouse and ratio (or added) per row, with CPU time for the login rows.
// Not a test: asserts nothing.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AuditLog } from '../src-cluster/audit/audit-log.ts';
import { AccessChecker } from '../src-cluster/authz/access.ts';
import { loadOrCreateAuthorities } from '../src-cluster/auth/authorities.ts';
import { AuthServer, type LoginInput } from '../src-cluster/auth/auth-server.ts';
import { createPresetRoles, identityStores } from '../src-cluster/auth/identity-stores.ts';
import { createMemoryLogger } from '../src-cluster/log/logger.ts';
import { DiagServer } from '../src-cluster/ops/diag-server.ts';
import { ProcessHealth } from '../src-cluster/ops/health.ts';
import { AuditMetrics, MeteredAuditLog } from '../src-cluster/ops/metered-audit.ts';
import { MeteredBackend } from '../src-cluster/ops/metered-backend.ts';
import { ProcessMetrics } from '../src-cluster/ops/metrics.ts';
import { newUser } from '../src-cluster/resources/user.ts';
import type { Backend } from '../src-cluster/storage/backend.ts';
import { SqliteBackend } from '../src-cluster/storage/sqlite.ts';
import { formatAuthorizedKey, publicKeyToWire } from '../src-shared/sshcert/index.ts';

const RUNS = Number(process.env.BENCH_OPS_RUNS ?? 100);
const GET_RUNS = Number(process.env.BENCH_OPS_GET_RUNS ?? 20_000);
const SCRAPES = Number(process.env.BENCH_OPS_SCRAPES ?? 300);
const PASSWORD = 'bench-password-1';

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
const f = (ms: number) => (ms < 1 ? `${(ms * 1000).toFixed(1)} µs` : `${ms.toFixed(2)} ms`);

interface BenchAuth {
  auth: AuthServer;
  backend: Backend;
  close(): Promise<void>;
}

/** An auth server wired as auth-composition.ts wires it, with or without the ops decorators. */
async function composeAuth(dir: string, metrics: ProcessMetrics | undefined): Promise<BenchAuth> {
  const sqlite = await SqliteBackend.open({ path: join(dir, 'gatehouse.db') });
  const backend = metrics ? new MeteredBackend(sqlite, metrics) : sqlite;
  const log = createMemoryLogger('error');
  const { roles, users } = identityStores(backend);
  await createPresetRoles(roles);
  const audit = metrics ? new MeteredAuditLog(backend, new AuditMetrics(metrics)) : new AuditLog(backend);
  const access = new AccessChecker(users, roles, log, { audit });
  const cas = await loadOrCreateAuthorities(backend, 'bench', log);
  const settings = { clusterName: 'bench', secondFactor: 'off' as const, certTtlMs: 3600_000 };
  const auth = new AuthServer(backend, cas, settings, access, log, undefined, audit);
  await users.create(newUser({ name: 'alice', roles: ['access'], logins: ['nobody'] }) as never);
  await auth.setPassword('alice', PASSWORD);
  return { auth, backend, close: () => backend.close() };
}

let seq = 0;
function loginInput(publicKey: string): LoginInput {
  seq++;
  // A distinct client address per login, so the lockout's per-source bookkeeping is not one hot row.
  const clientAddress = `10.1.${Math.floor(seq / 250) % 250}.${(seq % 250) + 1}`;
  return { user: 'alice', password: PASSWORD, otp: '', publicKey, ttlSeconds: 600, clientAddress };
}

function row(label: string, base: number, ours: number, unit = 'ratio'): void {
  const rel = unit === 'ratio' ? `ratio ${(ours / base).toFixed(3)}x` : `added ${f(ours - base)}`;
  console.log(`${label.padEnd(34)} baseline ${f(base).padStart(10)}  Gatehouse ${f(ours).padStart(10)}  ${rel}`);
}

async function benchLogins(plain: BenchAuth, metered: BenchAuth): Promise<void> {
  const key = formatAuthorizedKey(publicKeyToWire(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey), 'b');
  const times = { plain: [] as number[], metered: [] as number[] };
  const cpu = { plain: 0, metered: 0 };
  for (let i = 0; i < 20; i++) {
    await plain.auth.login(loginInput(key));
    await metered.auth.login(loginInput(key));
  }
  for (let i = 0; i < RUNS; i++) {
    // Alternate which goes first, so drift and warm caches hit both alike.
    const order: ['plain' | 'metered', BenchAuth][] =
      i % 2 === 0
        ? [
            ['plain', plain],
            ['metered', metered],
          ]
        : [
            ['metered', metered],
            ['plain', plain],
          ];
    for (const [name, a] of order) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await a.auth.login(loginInput(key));
      times[name].push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[name] += (c.user + c.system) / 1000;
    }
  }
  row('login p50', pct(times.plain, 50), pct(times.metered, 50));
  row('login p95', pct(times.plain, 95), pct(times.metered, 95));
  row('login CPU per login', cpu.plain / RUNS, cpu.metered / RUNS);
}

/** Storage calls the metered auth made so far (the histogram's counts), for the per-call arithmetic. */
async function storageCalls(metrics: ProcessMetrics): Promise<number> {
  const { values } = await metrics.backendDuration.get();
  return values.filter((v) => v.metricName?.endsWith('_count')).reduce((sum, v) => sum + v.value, 0);
}

async function benchGet(plain: BenchAuth, metered: BenchAuth): Promise<void> {
  const times = { plain: [] as number[], metered: [] as number[] };
  for (let i = 0; i < GET_RUNS; i++) {
    for (const [name, a] of [
      ['plain', plain],
      ['metered', metered],
    ] as const) {
      const t0 = performance.now();
      await a.backend.get('/cluster/name');
      times[name].push(performance.now() - t0);
    }
  }
  row('Backend.get p50', pct(times.plain, 50), pct(times.metered, 50), 'added');
}

function httpGet(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(performance.now() - t0));
    }).on('error', reject);
  });
}

async function benchScrape(metrics: ProcessMetrics): Promise<void> {
  const server = new DiagServer({
    listenAddr: '127.0.0.1:0',
    health: new ProcessHealth(),
    metrics,
    log: createMemoryLogger('error'),
  });
  const addr = await server.start();
  try {
    const times = { healthz: [] as number[], metrics: [] as number[] };
    for (let i = 0; i < SCRAPES; i++) {
      times.healthz.push(await httpGet(`http://${addr}/healthz`));
      times.metrics.push(await httpGet(`http://${addr}/metrics`));
    }
    const bytes = (await metrics.scrape()).body.length;
    row(`GET /metrics p50 (${Math.round(bytes / 1024)} KiB)`, pct(times.healthz, 50), pct(times.metrics, 50), 'added');
    row('GET /metrics p95', pct(times.healthz, 95), pct(times.metrics, 95), 'added');
  } finally {
    await server.close();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-ops-'));
  const metrics = new ProcessMetrics('bench');
  const plain = await composeAuth(join(dir, 'plain-'), undefined);
  const metered = await composeAuth(join(dir, 'metered-'), metrics);
  try {
    console.log(`bench:ops  ${RUNS} logins each, interleaved; ${GET_RUNS} gets; ${SCRAPES} scrapes`);
    const callsBefore = await storageCalls(metrics);
    await benchLogins(plain, metered);
    // Warm-up logins included: 20 + RUNS logins on the metered auth.
    const perLogin = ((await storageCalls(metrics)) - callsBefore) / (RUNS + 20);
    console.log(`storage calls per login (metered auth): ${perLogin.toFixed(1)}`);
    await benchGet(plain, metered);
    await benchScrape(metrics);
  } finally {
    await plain.close();
    await metered.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
