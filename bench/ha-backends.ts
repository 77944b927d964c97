// npm run bench:ha — issue 17's speed goals at the CLUSTER level: two real `gatehouse start`
// clusters side by side, one on SQLite (the baseline) and one on PostgreSQL 15 (loopback, TLS
// verify-full, client certificate), the same swtpm as this machine's TPM for both:
//   password login:   ClusterClient.login through the proxy (what `gate login` does), p50/p95
//   device login:     GatehouseClient.login (password login + device authentication, the challenge
//                     folded in), p50/p95; runs interleaved SQLite/PostgreSQL so drift hits both
//   backend calls:    storage calls per login of each kind, from the auth server's own
//                     gatehouse_backend_operation_duration_seconds counts (each is a network round
//                     trip on PostgreSQL) and the storage time per login
//   devices ls:       10,000 device records (stored in DeviceInventory's layout), then
//                     `gatectl devices ls` as users run it (bin/gatectl.mjs: the bundle in
//                     dist/cli, compile cache on), p50/p95 against the < 200 ms goal, with
//                     `gatectl users ls` (the CLI's own start-up, its connection and one small
//                     listing RPC) as the baseline and two floors: `node -e 0` and a bare Node TLS
//                     client to the same port with the same identity (start-up + one handshake);
//                     and the server's listing storage time. Each row also gives the command's
//                     CPU time and the daemon's CPU time while it ran (/proc, 10 ms ticks), which
//                     the machine's load disturbs far less than wall time
// Not a test: it asserts nothing, it measures; it stops with an error when a part is missing.
// Env: BENCH_HA_LOGINS (40), BENCH_HA_LS_RUNS (5), BENCH_HA_DEVICES (10000), BENCH_HA_ONLY_LS=1
// (skip the login rows: seed and time the listing only).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ClusterProcess, ROOT } from '../test-support/cluster-process.ts';
import { startSwtpm } from '../test-support/swtpm.ts';
import { startStoragePostgres } from '../test-support/databases/storage-postgres.ts';
import { scrapeText, metricValue } from '../src-cluster/ops/test-support/scrape.ts';
import { GatehouseClient } from '../src-main/core/gatehouse-client.ts';
import type { ClusterClient, LoginParams } from '../src-main/core/cluster-client.ts';
import type { Backend } from '../src-cluster/storage/backend.ts';
import { PostgresBackend } from '../src-cluster/storage/postgres.ts';
import { SqliteBackend } from '../src-cluster/storage/sqlite.ts';
import { DeviceInventory } from '../src-cluster/devicetrust/inventory.ts';
import { claimKey } from '../src-cluster/devicetrust/asset-tag-claims.ts';
import { ms, pct } from './device-login.ts';
import { childrenCpuMs, processCpuMs } from './process-cpu.ts';

const LOGINS = Number(process.env.BENCH_HA_LOGINS ?? 40);
const LS_RUNS = Number(process.env.BENCH_HA_LS_RUNS ?? 5);
const DEVICES = Number(process.env.BENCH_HA_DEVICES ?? 10_000);
const SEED_BATCH = 500;
const BACKEND_OPS = [
  'get',
  'put',
  'create',
  'compare_and_swap',
  'delete',
  'batch',
  'delete_range',
  'list_range',
  'list_prefix',
];
const ONLY_LS = process.env.BENCH_HA_ONLY_LS === '1';
const GATECTL_BUNDLE = join(ROOT, 'dist/cli/gatectl.mjs');
const GATECTL = join(ROOT, 'bin/gatectl.mjs');
const LS_GOAL_MS = 200;
/** The floor under any gatectl call: Node's start-up plus one mTLS handshake with the admin identity. */
const TLS_FLOOR = `
const { readFileSync } = require('node:fs');
const tls = require('node:tls');
const id = JSON.parse(readFileSync(process.env.GATEHOUSE_DATA_DIR + '/admin-identity.json', 'utf8'));
const [host, port] = id.proxy.split(':');
const s = tls.connect({ host, port: Number(port), ca: id.tls_host_ca_pem, cert: id.tls_cert_pem, key: id.key_pem, ALPNProtocols: ['h2'] });
s.once('secureConnect', () => s.end());
s.once('error', (e) => { console.error(e.message); process.exit(1); });`;

/** The 1, 5 and 15 minute load averages, printed with the figures they disturb. */
function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

interface Side {
  name: string;
  cluster: ClusterProcess;
  core: GatehouseClient;
  api: ClusterClient;
  params: LoginParams;
  openStorage: () => Promise<Backend>;
}

async function startSide(name: string, tcti: string, extraConfig?: string): Promise<Side> {
  const cluster = new ClusterProcess({ clusterName: `bench-${name.toLowerCase()}`, diagnostics: true, extraConfig });
  await cluster.start();
  const user = cluster.addUser('bench', ['access']);
  const env = { ...process.env, GATEHOUSE_TPM_TCTI: tcti };
  const core = new GatehouseClient({ home: cluster.home, deviceHome: join(cluster.home, 'device'), env });
  const api = await core.cluster(cluster.proxyAddr);
  await api.establishTrust({ caPin: cluster.caPin });
  const params = { user: user.name, password: user.password };
  // Enroll this machine's TPM in this cluster, as bench/device-trust.ts does.
  const tag = cluster.gate(['device', 'asset-tag'], '', env as Record<string, string>);
  if (tag.status !== 0) throw new Error(`gate device asset-tag failed: ${tag.stderr}`);
  const assetTag = tag.stdout.trim();
  const added = cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux', '--enroll']);
  const token = /^ {2}(\S{20,})$/m.exec(added.stdout)?.[1];
  if (added.status !== 0 || !token) throw new Error(`gatectl devices add --enroll failed: ${added.stderr}`);
  await api.login(params);
  await core.device.enroll(api, core.requireValidProfile(), { token });
  const openStorage = () => SqliteBackend.open({ path: join(cluster.dataDir, 'gatehouse.db') });
  return { name, cluster, core, api, params, openStorage };
}

interface BackendTotals {
  calls: number;
  seconds: number;
  byOp: Record<string, number>;
}

/** Storage calls (in all and by op) and storage seconds the auth server has made so far. */
async function backendTotals(side: Side, ops = BACKEND_OPS): Promise<BackendTotals> {
  const text = await scrapeText(side.cluster.diagAddr());
  const totals: BackendTotals = { calls: 0, seconds: 0, byOp: {} };
  for (const op of ops) {
    const labels = { op, result: 'ok' };
    const calls = metricValue(text, 'gatehouse_backend_operation_duration_seconds_count', labels) ?? 0;
    totals.byOp[op] = calls;
    totals.calls += calls;
    totals.seconds += metricValue(text, 'gatehouse_backend_operation_duration_seconds_sum', labels) ?? 0;
  }
  return totals;
}

async function trustedLogin(side: Side): Promise<void> {
  const outcome = await side.core.login(side.api, side.params);
  if (outcome.deviceTrust.state !== 'trusted')
    throw new Error(`${side.name}: the login was not device-trusted: ${JSON.stringify(outcome.deviceTrust)}`);
}

async function timeOne(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/** Backend calls and storage ms per login of one kind (a quiet phase of its own, not the timed runs). */
async function callsPerLogin(side: Side, login: () => Promise<unknown>, n = 10): Promise<string> {
  const before = await backendTotals(side);
  for (let i = 0; i < n; i++) await login();
  const after = await backendTotals(side);
  const calls = (after.calls - before.calls) / n;
  const byOp = BACKEND_OPS.map((op) => [op, (after.byOp[op]! - before.byOp[op]!) / n] as const)
    .filter(([, c]) => c > 0)
    .map(([op, c]) => `${op} ${c.toFixed(1)}`);
  return `${calls.toFixed(1)} calls (${byOp.join(', ')}), ${ms(((after.seconds - before.seconds) * 1000) / n)} storage`;
}

/**
 * Stores DEVICES records in the inventory's layout (the device and its asset-tag claim), 500 per
 * transaction: DeviceInventory.add reads the whole inventory per add, which at 10,000 devices
 * makes seeding one by one take many minutes.
 */
async function seedDevices(side: Side): Promise<void> {
  const storage = await side.openStorage();
  try {
    const inventory = new DeviceInventory(storage);
    for (let i = 0; i < DEVICES; i += SEED_BATCH) {
      const ops = Array.from({ length: Math.min(SEED_BATCH, DEVICES - i) }, (_, j) => {
        const device = inventory.build({ assetTag: `BENCH-${String(i + j).padStart(6, '0')}`, osType: 'linux' });
        const claim = { key: claimKey('linux', device.spec.asset_tag), value: device.metadata.name };
        return [{ type: 'create' as const, item: claim }, inventory.store.createWrite(device)];
      });
      await storage.batch(ops.flat());
    }
  } finally {
    await storage.close();
  }
}

interface ProcessTimes {
  wall: number[];
  /** The command's own CPU (user + system). */
  cpu: number[];
  /** CPU the cluster's daemon (auth and proxy: one process) spent while the command ran. */
  daemonCpu: number[];
}

const newTimes = (): ProcessTimes => ({ wall: [], cpu: [], daemonCpu: [] });

/** Wall ms of one process run as a user starts it (`argv` after the node binary), its CPU and the daemon's into `into`. */
function timeProcess(side: Side, argv: string[], into: ProcessTimes, expectLines = 0): void {
  const [cpu0, daemon0] = [childrenCpuMs(), processCpuMs(side.cluster.pid ?? 0)];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, argv, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, GATEHOUSE_DATA_DIR: side.cluster.dataDir, GATEHOUSE_HOME: side.cluster.home },
  });
  const wall = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed (${r.status}): ${r.stderr}`);
  if (r.stdout.split('\n').length < expectLines)
    throw new Error(`${argv.join(' ')} printed ${r.stdout.split('\n').length} lines, fewer than ${expectLines}`);
  const [cpu1, daemon1] = [childrenCpuMs(), processCpuMs(side.cluster.pid ?? 0)];
  into.wall.push(wall);
  if (cpu0 !== undefined && cpu1 !== undefined) into.cpu.push(cpu1 - cpu0);
  if (daemon0 !== undefined && daemon1 !== undefined) into.daemonCpu.push(daemon1 - daemon0);
}

function runGatectl(side: Side, args: string[], into: ProcessTimes): void {
  timeProcess(side, [GATECTL, ...args], into, args[0] === 'devices' ? DEVICES : 0);
}

function ratioRow(label: string, base: number[], gh: number[], p: number, goal = ''): string {
  const [b, g] = [pct(base, p), pct(gh, p)];
  return (
    `${label.padEnd(32)} p${p}  baseline(SQLite) ${ms(b).padStart(8)}  Gatehouse(PostgreSQL) ${ms(g).padStart(8)}` +
    `  ratio ${(g / b).toFixed(2)}x  ${goal}`
  );
}

const p50p95 = (xs: number[]) => `p50 ${ms(pct(xs, 50)).padStart(8)} p95 ${ms(pct(xs, 95)).padStart(8)}`;
const p50 = (xs: number[]) => (xs.length > 0 ? ms(pct(xs, 50)) : 'n/a');
/** Wall p50/p95, then CPU p50 of the command and of the daemon (10 ms ticks). */
const timesRow = (t: ProcessTimes) =>
  `${p50p95(t.wall)}  cpu p50 ${p50(t.cpu).padStart(8)}  daemon cpu p50 ${p50(t.daemonCpu)}`;

async function benchLs(sides: Side[]): Promise<void> {
  for (const side of sides) await seedDevices(side);
  for (const side of sides) {
    runGatectl(side, ['devices', 'ls'], newTimes()); // warm-up: the server's first listing, the OS page cache
    const t = { node: newTimes(), tls: newTimes(), users: newTimes(), devices: newTimes() };
    const before = await backendTotals(side, ['list_prefix', 'list_range']);
    for (let i = 0; i < LS_RUNS; i++) {
      timeProcess(side, ['-e', '0'], t.node);
      timeProcess(side, ['-e', TLS_FLOOR], t.tls);
      runGatectl(side, ['users', 'ls'], t.users);
      runGatectl(side, ['devices', 'ls'], t.devices);
    }
    const after = await backendTotals(side, ['list_prefix', 'list_range']);
    const lists = after.calls - before.calls;
    const serverMs = lists > 0 ? ((after.seconds - before.seconds) * 1000) / LS_RUNS : NaN;
    const added = t.devices.wall.map((w, i) => w - t.users.wall[i]!);
    const [d50, d95] = [pct(t.devices.wall, 50), pct(t.devices.wall, 95)];
    const goal = (v: number) => `${(v / LS_GOAL_MS).toFixed(2)}x of goal ${v < LS_GOAL_MS ? 'met' : 'NOT met'}`;
    const name = `${side.name} (${DEVICES} devices, ${LS_RUNS} runs)`;
    console.log(`${name}: floor node -e 0          ${timesRow(t.node)}`);
    console.log(`${name}: floor node + TLS handshake ${timesRow(t.tls)}`);
    console.log(`${name}: baseline gatectl users ls ${timesRow(t.users)}`);
    console.log(`${name}: gatectl devices ls         ${timesRow(t.devices)}`);
    console.log(
      `${name}: gatectl devices ls ratio to users ls p50 ${(d50 / pct(t.users.wall, 50)).toFixed(2)}x` +
        `  goal < ${LS_GOAL_MS} ms: p50 ${goal(d50)}, p95 ${goal(d95)}`,
    );
    console.log(
      `${name}: listing added over users ls p50 ${ms(pct(added, 50))}; server listing storage ${ms(serverMs)}/ls` +
        `; load average ${loadAverage()}`,
    );
  }
}

async function benchLogins(sides: Side[]): Promise<void> {
  for (const side of sides) for (let i = 0; i < 5; i++) await trustedLogin(side); // warm-up
  const times = { pw: [[], []] as number[][], dev: [[], []] as number[][] };
  for (let i = 0; i < LOGINS; i++) {
    for (const [k, side] of sides.entries()) {
      times.pw[k]!.push(await timeOne(() => side.api.login(side.params)));
      times.dev[k]!.push(await timeOne(() => trustedLogin(side)));
    }
  }
  console.log(`cluster-level logins, same run, interleaved: ${LOGINS} of each kind per backend`);
  console.log(ratioRow('password login', times.pw[0]!, times.pw[1]!, 50));
  console.log(ratioRow('password login', times.pw[0]!, times.pw[1]!, 95, 'goal ≤ 1.2x'));
  console.log(ratioRow('login + device auth (swtpm)', times.dev[0]!, times.dev[1]!, 50));
  console.log(ratioRow('login + device auth (swtpm)', times.dev[0]!, times.dev[1]!, 95, 'goal ≤ 1.2x'));
  for (const side of sides) {
    const pw = await callsPerLogin(side, () => side.api.login(side.params));
    const dev = await callsPerLogin(side, () => trustedLogin(side));
    console.log(`${side.name.padEnd(10)} backend calls per password login: ${pw}`);
    console.log(`${side.name.padEnd(10)} backend calls per device login:   ${dev}`);
  }
}

async function benchSeededLogins(sides: Side[]): Promise<void> {
  // Device authentication looks the device up by its credential id in the whole inventory
  // (devicetrust/login-challenge-authentication.ts), so its cost grows with the device count.
  const seeded: number[][] = [[], []];
  for (let i = 0; i < LOGINS / 2; i++)
    for (const [k, side] of sides.entries()) seeded[k]!.push(await timeOne(() => trustedLogin(side)));
  console.log(ratioRow(`device login, ${DEVICES} devices stored`, seeded[0]!, seeded[1]!, 50));
  console.log(ratioRow(`device login, ${DEVICES} devices stored`, seeded[0]!, seeded[1]!, 95, 'goal ≤ 1.2x'));
}

async function main(): Promise<void> {
  if (!existsSync(GATECTL_BUNDLE)) throw new Error(`${GATECTL_BUNDLE} is missing: run npm run build:cli first`);
  const tpm = await startSwtpm();
  const server = await startStoragePostgres();
  const sides: Side[] = [];
  try {
    sides.push(await startSide('SQLite', tpm.tcti));
    const url = server.freshDatabase('ha');
    const pgSide = await startSide(
      'PostgreSQL',
      tpm.tcti,
      ['storage:', '  type: postgres', `  conn_string: ${JSON.stringify(url)}`, '  audit: { type: postgres }'].join(
        '\n',
      ),
    );
    pgSide.openStorage = () => PostgresBackend.open({ connString: url });
    sides.push(pgSide);
    if (!ONLY_LS) await benchLogins(sides);
    await benchLs(sides);
    if (!ONLY_LS) await benchSeededLogins(sides);
  } finally {
    for (const side of sides) {
      side.api.close();
      await side.cluster.destroy();
    }
    await server.stop();
    await tpm.stop();
  }
}

main().catch((e: unknown) => {
  console.error(`bench:ha failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
