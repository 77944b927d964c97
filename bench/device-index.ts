// The inventory lookup in device authentication (issue 17 item 3): every device login finds the
// device by its credential id. Before, that was a scan of every device record (parse + validate
// each), cut to one read by a per-process hint once an auth server had seen the credential; a
// restarted auth server, another auth server, or a credential it had not seen paid the scan.
// Now: one read of the credential's index key and one of the record. Measured here as CPU time
// per lookup (this process: client, driver and SQLite; PostgreSQL's own CPU is not counted) at
// 10 and 10,000 enrolled devices on both backends, the scan ("before, cold") and the index
// ("after") interleaved round by round in one run. The scan is run through the same public
// listing the old code used (DeviceInventory.list), so it is the old path, not a model of it.
//   BENCH_DEVICES=10,10000 BENCH_ROUNDS=5 npm run bench:device-index
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStoragePostgres } from '../test-support/databases/storage-postgres.ts';
import { MAX_BATCH_OPS, type Backend, type BatchOp } from '../src-cluster/storage/backend.ts';
import { PostgresBackend } from '../src-cluster/storage/postgres.ts';
import { SqliteBackend } from '../src-cluster/storage/sqlite.ts';
import { claimKey } from '../src-cluster/devicetrust/asset-tag-claims.ts';
import { credentialKey } from '../src-cluster/devicetrust/credential-index.ts';
import { DeviceInventory } from '../src-cluster/devicetrust/inventory.ts';

const sizes = (process.env.BENCH_DEVICES ?? '10,10000').split(',').map(Number);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);

/** Writes `n` enrolled devices with their claim and credential keys, as the inventory would. */
async function fill(backend: Backend, n: number): Promise<string[]> {
  const builder = new DeviceInventory(backend);
  const creds: string[] = [];
  let ops: BatchOp[] = [];
  for (let i = 0; i < n; i++) {
    const d = builder.build({ assetTag: `SN-BENCH-${i}`, osType: 'linux' });
    const cred = `cred-${i.toString(16).padStart(8, '0')}`;
    d.spec = {
      ...d.spec,
      enroll_status: 'enrolled',
      credential: { id: cred, public_key: 'A'.repeat(400), attestation_type: 'ekcert' },
      collected_data: [],
    };
    creds.push(cred);
    ops.push(
      { type: 'put', item: { key: `/devices/${d.metadata.name}`, value: JSON.stringify(d) } },
      { type: 'put', item: { key: claimKey('linux', d.spec.asset_tag), value: d.metadata.name } },
      { type: 'put', item: { key: credentialKey(cred), value: d.metadata.name } },
    );
    if (ops.length + 3 > MAX_BATCH_OPS || i === n - 1) {
      await backend.batch(ops);
      ops = [];
    }
  }
  return creds;
}

/** CPU ms per call of `fn` over `times` calls (user + system of this process). */
async function cpuPerCall(times: number, fn: (i: number) => Promise<unknown>): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < times; i++) await fn(i);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / times;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(name: string, backend: Backend): Promise<void> {
  for (const n of sizes) {
    await backend.deleteRange('/device', '/devicf');
    const creds = await fill(backend, n);
    const inventory = new DeviceInventory(backend);
    const pick = (i: number) => creds[(i * 7919) % creds.length]!;
    const scan: number[] = [];
    const index: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // The old lookup on a cold auth server: list every device, find the credential.
      scan.push(
        await cpuPerCall(n > 1000 ? 3 : 200, async (i) => {
          const found = (await inventory.list()).find((d) => d.spec.credential?.id === pick(i));
          if (!found) throw new Error('scan found nothing');
        }),
      );
      index.push(
        await cpuPerCall(500, async (i) => {
          if (!(await inventory.findByCredential(pick(i)))) throw new Error('index found nothing');
        }),
      );
    }
    const [s, x] = [median(scan), median(index)];
    console.log(
      `| ${name} | ${n.toLocaleString('en')} | ${s.toFixed(3)} ms | ${x.toFixed(3)} ms | ${(s / x).toFixed(0)}× | ` +
        `${rounds} | ${loadavg()[0]!.toFixed(2)} |`,
    );
  }
}

console.log(
  `| backend | devices | before: scan (cold) CPU/lookup | after: index CPU/lookup | before/after | rounds | load (1 min) |`,
);
console.log('|---|---|---|---|---|---|---|');
const dir = mkdtempSync(join(tmpdir(), 'gh-bench-devindex-'));
const sqlite = await SqliteBackend.open({ path: join(dir, 'gatehouse.db') });
try {
  await measure('SQLite', sqlite);
} finally {
  await sqlite.close();
  rmSync(dir, { recursive: true, force: true });
}
const pg = await startStoragePostgres();
try {
  const backend = await PostgresBackend.open({ connString: pg.freshDatabase() });
  try {
    await measure('PostgreSQL', backend);
  } finally {
    await backend.close();
  }
} finally {
  await pg.stop();
}
