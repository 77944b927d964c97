// npm run bench:storage — the cluster storage on PostgreSQL against SQLite (the baseline), in the
// same run on the same machine (PostgreSQL 15 on loopback, TLS verify-full, client certificate):
//   login-like op:   get user + get credentials + list the user's locks + an audit event (3-key
//                    batch): p50/p95 per op, PostgreSQL/SQLite ratio (issue goal for logins: ≤ 1.2×)
//   device-like op:  get device + compare-and-swap its last-seen + an audit event: p50/p95, ratio
//   watch:           a lock put on instance A seen by a watcher on instance B: p50/p99 (goal < 1 s)
//   login burst:     BENCH_STORAGE_BURST (50) login-like ops started at once, BENCH_STORAGE_BURST_ROUNDS
//                    (10) times: p95 per op inside a burst and the burst's wall time; beside it the
//                    same burst without the audit write (reads only), which no revision counter
//                    serialises, so the difference is what the writes cost when they queue
//   list 10,000:     listPrefix of 10,000 device-like records and JSON.parse of each, as
//                    `gatectl devices ls` reads them: p50/p95 (goal < 200 ms on both)
// Not a test: it asserts nothing, it measures. Env: BENCH_STORAGE_OPS (400), BENCH_STORAGE_WATCH (200),
// BENCH_STORAGE_LIST_RUNS (10).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStoragePostgres } from '../test-support/databases/storage-postgres.ts';
import type { Backend } from '../src-cluster/storage/backend.ts';
import { PostgresBackend } from '../src-cluster/storage/postgres.ts';
import { SqliteBackend } from '../src-cluster/storage/sqlite.ts';

const OPS = Number(process.env.BENCH_STORAGE_OPS ?? 400);
const WATCH = Number(process.env.BENCH_STORAGE_WATCH ?? 200);
const LIST_RUNS = Number(process.env.BENCH_STORAGE_LIST_RUNS ?? 10);
const DEVICES = 10_000;
const BURST = Number(process.env.BENCH_STORAGE_BURST ?? 50);
const BURST_ROUNDS = Number(process.env.BENCH_STORAGE_BURST_ROUNDS ?? 10);

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const ms = (x: number) => `${x.toFixed(2)} ms`;

function deviceDoc(i: number): string {
  return JSON.stringify({
    kind: 'device',
    version: 'v1',
    metadata: { name: `0000${i}-1111-4222-8333-444455556666`.slice(-36) },
    spec: {
      asset_tag: `SN-${String(i).padStart(6, '0')}`,
      os_type: 'linux',
      enroll_status: 'enrolled',
      credential: { id: `cred-${i}`, public_key_der: 'A'.repeat(120), device_attestation_type: 'tpm_ekpub' },
      collected_data: [{ collect_time: '2026-12-07T00:00:00Z', os_type: 'linux', serial_number: `SN-${i}` }],
      profile: { model_identifier: 'bench', os_version: '12' },
    },
  });
}

interface Side {
  name: string;
  a: Backend;
  b: Backend;
}

async function seed(side: Side): Promise<void> {
  await side.a.put({ key: '/users/alice', value: JSON.stringify({ spec: { roles: ['access'] } }) });
  await side.a.put({ key: '/credentials/alice', value: JSON.stringify({ hash: 'x'.repeat(100) }) });
  await side.a.put({ key: '/devices/bench', value: deviceDoc(0) });
  for (let i = 0; i < DEVICES; i += 2000) {
    await side.a.batch(
      Array.from({ length: 2000 }, (_, j) => ({
        type: 'put' as const,
        item: { key: `/inventory/${String(i + j).padStart(6, '0')}`, value: deviceDoc(i + j) },
      })),
    );
  }
}

let auditSeq = 0;
function auditOps(user: string) {
  const id = `${Date.now()}/${String(auditSeq++).padStart(8, '0')}`;
  const value = JSON.stringify({ type: 'user.login', user, success: true, time: new Date().toISOString() });
  return ['events', 'by_type/user.login', `by_user/${user}`].map((index) => ({
    type: 'create' as const,
    item: { key: `/audit/${index}/${id}`, value },
  }));
}

async function loginLike(db: Backend): Promise<void> {
  await db.get('/users/alice');
  await db.get('/credentials/alice');
  await db.listPrefix('/locks/');
  await db.batch(auditOps('alice'));
}

async function deviceLike(db: Backend): Promise<void> {
  const device = (await db.get('/devices/bench'))!;
  await db.compareAndSwap(device, { key: device.key, value: device.value });
  await db.batch(auditOps('alice'));
}

async function timed(n: number, fn: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < Math.min(50, n); i++) await fn(); // warm-up: pools, prepared plans, caches
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

async function loginReadsOnly(db: Backend): Promise<void> {
  await db.get('/users/alice');
  await db.get('/credentials/alice');
  await db.listPrefix('/locks/');
}

/** `BURST` ops started together, `BURST_ROUNDS` times: each op's latency and each burst's wall time. */
async function bursts(fn: () => Promise<void>): Promise<{ ops: number[]; walls: number[] }> {
  await Promise.all(Array.from({ length: BURST }, fn)); // warm-up: the pool opens all its connections
  const ops: number[] = [];
  const walls: number[] = [];
  for (let r = 0; r < BURST_ROUNDS; r++) {
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: BURST }, async () => {
        const s0 = performance.now();
        await fn();
        ops.push(performance.now() - s0);
      }),
    );
    walls.push(performance.now() - t0);
  }
  return { ops, walls };
}

async function watchLatency(side: Side): Promise<number[]> {
  const watcher = side.b.watch(['/locks/']);
  const it = watcher[Symbol.asyncIterator]();
  await it.next(); // init
  const out: number[] = [];
  for (let i = 0; i < WATCH; i++) {
    const t0 = performance.now();
    await side.a.put({ key: `/locks/l${i % 20}`, value: String(i) });
    for (;;) {
      const r = await it.next();
      if (r.done) throw new Error('watcher ended');
      if (r.value.type === 'put' && r.value.item.value === String(i)) break;
    }
    out.push(performance.now() - t0);
  }
  watcher.close();
  return out;
}

async function listTimes(db: Backend): Promise<number[]> {
  return timed(LIST_RUNS, async () => {
    const items = await db.listPrefix('/inventory/');
    if (items.length !== DEVICES) throw new Error(`listed ${items.length} of ${DEVICES}`);
    for (const item of items) JSON.parse(item.value);
  });
}

function row(label: string, base: number[], gh: number[], p: number, goal: string): string {
  const [b, g] = [pct(base, p), pct(gh, p)];
  return `${label.padEnd(34)} p${p}  baseline(SQLite) ${ms(b).padStart(10)}  Gatehouse(PostgreSQL) ${ms(g).padStart(10)}  ratio ${(g / b).toFixed(2)}x  ${goal}`;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-storage-'));
  const pg = await startStoragePostgres();
  const opened: Backend[] = [];
  try {
    const sqlitePath = join(dir, 'gatehouse.db');
    const sqlite: Side = {
      name: 'SQLite',
      a: await SqliteBackend.open({ path: sqlitePath }),
      b: await SqliteBackend.open({ path: sqlitePath }),
    };
    const url = pg.freshDatabase('bench');
    const postgres: Side = {
      name: 'PostgreSQL',
      a: await PostgresBackend.open({ connString: url }),
      b: await PostgresBackend.open({ connString: url }),
    };
    opened.push(sqlite.a, sqlite.b, postgres.a, postgres.b);
    await seed(sqlite);
    await seed(postgres);
    const results: Record<string, Record<string, number[]>> = { SQLite: {}, PostgreSQL: {} };
    for (const side of [sqlite, postgres]) {
      const r = results[side.name]!;
      r.login = await timed(OPS, () => loginLike(side.a));
      r.device = await timed(OPS, () => deviceLike(side.a));
      r.watch = await watchLatency(side);
      r.list = await listTimes(side.a);
      const burst = await bursts(() => loginLike(side.a));
      const reads = await bursts(() => loginReadsOnly(side.a));
      [r.burst, r.burstWall, r.readBurst, r.readBurstWall] = [burst.ops, burst.walls, reads.ops, reads.walls];
    }
    const [s, p] = [results.SQLite!, results.PostgreSQL!];
    console.log(`storage backends, same run: ${OPS} ops, ${WATCH} watch trials, ${LIST_RUNS} listings of ${DEVICES}`);
    console.log(row('login-like op (3 reads + audit)', s.login!, p.login!, 50, ''));
    console.log(row('login-like op (3 reads + audit)', s.login!, p.login!, 95, 'goal ≤ 1.2x (login)'));
    console.log(row('device-like op (read + CAS + audit)', s.device!, p.device!, 50, ''));
    console.log(row('device-like op (read + CAS + audit)', s.device!, p.device!, 95, ''));
    console.log(row('watch: put on A → event on B', s.watch!, p.watch!, 50, ''));
    console.log(row('watch: put on A → event on B', s.watch!, p.watch!, 99, 'goal < 1000 ms'));
    console.log(row(`login burst ×${BURST}: each op`, s.burst!, p.burst!, 95, ''));
    console.log(row(`login burst ×${BURST}: whole burst`, s.burstWall!, p.burstWall!, 50, ''));
    console.log(row(`reads-only burst ×${BURST}: each op`, s.readBurst!, p.readBurst!, 95, ''));
    console.log(row(`reads-only burst ×${BURST}: whole`, s.readBurstWall!, p.readBurstWall!, 50, ''));
    console.log(row(`list ${DEVICES} device records`, s.list!, p.list!, 50, ''));
    console.log(row(`list ${DEVICES} device records`, s.list!, p.list!, 95, 'goal < 200 ms both'));
  } finally {
    for (const b of opened) await b.close().catch(() => undefined);
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
