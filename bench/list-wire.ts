// node --import tsx bench/list-wire.ts — the CPU cost of one `gatectl devices ls` listing at
// 10,000 devices, without the processes and network around it (which a loaded machine makes
// noisy): the server's handler and protobuf encoding, then the CLI's decoding and parsing, as
// they were (each record parsed, re-serialised and sent as its own string: baseline) and as they
// are (the stored texts spliced and sent as one JSON array: Gatehouse), interleaved, CPU time
// (process.cpuUsage) per listing. Env: BENCH_LIST_DEVICES (10000), BENCH_LIST_RUNS (15).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ListResourcesResponseSchema } from '../proto/gen/gatehouse/v1/auth_pb.ts';
import { SqliteBackend } from '../src-cluster/storage/sqlite.ts';
import { DeviceInventory } from '../src-cluster/devicetrust/inventory.ts';
import { claimKey } from '../src-cluster/devicetrust/asset-tag-claims.ts';
import { pct } from './device-login.ts';

const DEVICES = Number(process.env.BENCH_LIST_DEVICES ?? 10_000);
const RUNS = Number(process.env.BENCH_LIST_RUNS ?? 15);

function cpuMs(fn: () => unknown): Promise<number> {
  const c0 = process.cpuUsage();
  return Promise.resolve(fn()).then(() => {
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-list-wire-'));
  const backend = await SqliteBackend.open({ path: join(dir, 'gatehouse.db') });
  try {
    const inventory = new DeviceInventory(backend);
    for (let i = 0; i < DEVICES; i += 500) {
      const ops = Array.from({ length: Math.min(500, DEVICES - i) }, (_, j) => {
        const device = inventory.build({ assetTag: `BENCH-${String(i + j).padStart(6, '0')}`, osType: 'linux' });
        const claim = { key: claimKey('linux', device.spec.asset_tag), value: device.metadata.name };
        return [{ type: 'create' as const, item: claim }, inventory.store.createWrite(device)];
      });
      await backend.batch(ops.flat());
    }
    const store = inventory.store;
    const t = { oldServer: [] as number[], newServer: [] as number[], oldCli: [] as number[], newCli: [] as number[] };
    let bytes = 0;
    for (let r = 0; r < RUNS + 2; r++) {
      let wire = new Uint8Array();
      const oldServer = await cpuMs(async () => {
        const resourcesJson = (await store.list()).map((d) => JSON.stringify(d));
        wire = toBinary(ListResourcesResponseSchema, {
          $typeName: 'gatehouse.v1.ListResourcesResponse',
          resourcesJson,
          resourcesJsonArray: new Uint8Array(),
        });
      });
      const oldCli = await cpuMs(() => {
        const res = fromBinary(ListResourcesResponseSchema, wire);
        return res.resourcesJson.map((j) => JSON.parse(j) as unknown);
      });
      const newServer = await cpuMs(async () => {
        const texts = await store.listJson();
        wire = toBinary(ListResourcesResponseSchema, {
          $typeName: 'gatehouse.v1.ListResourcesResponse',
          resourcesJson: [],
          resourcesJsonArray: Buffer.from(`[${texts.join(',')}]`),
        });
      });
      bytes = wire.length;
      const newCli = await cpuMs(() => {
        const res = fromBinary(ListResourcesResponseSchema, wire);
        return JSON.parse(new TextDecoder().decode(res.resourcesJsonArray)) as unknown;
      });
      if (r < 2) continue; // warm-up
      t.oldServer.push(oldServer);
      t.newServer.push(newServer);
      t.oldCli.push(oldCli);
      t.newCli.push(newCli);
    }
    const row = (label: string, base: number[], gh: number[]) =>
      console.log(
        `${label.padEnd(34)} baseline p50 ${pct(base, 50).toFixed(1).padStart(6)} ms  Gatehouse p50 ${pct(gh, 50).toFixed(1).padStart(6)} ms` +
          `  ratio ${(pct(gh, 50) / pct(base, 50)).toFixed(2)}x  (p95 ${pct(base, 95).toFixed(1)} / ${pct(gh, 95).toFixed(1)} ms)`,
      );
    console.log(`${DEVICES} devices, ${(bytes / 1e6).toFixed(1)} MB on the wire, ${RUNS} runs, CPU per listing`);
    row('server: storage + encode (CPU)', t.oldServer, t.newServer);
    row('CLI: decode + parse (CPU)', t.oldCli, t.newCli);
  } finally {
    await backend.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench list-wire failed: ${(e as Error).stack ?? String(e)}`);
  process.exit(1);
});
