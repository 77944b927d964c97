// Test-only: the device index keys (credential-index.ts, asset-tag-claims.ts) and their data
// migration (device-index-migration.ts) as one suite both storage backends run. A second backend
// instance on the same database stands for a second auth server.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { Backend } from '../../storage/backend.ts';
import type { BackendHarness } from '../../storage/test-support/conformance-kit.ts';
import { claimKey } from '../asset-tag-claims.ts';
import { credentialKey } from '../credential-index.ts';
import { migrateDeviceIndexes } from '../device-index-migration.ts';
import { DeviceInventory } from '../inventory.ts';

const credential = (id: string) => ({ id, public_key: 'AAEA', attestation_type: 'ekpub' as const });

/** Enrolls `cred` into the device, as the enrollment ceremony's final write does. */
function enroll(inventory: DeviceInventory, deviceId: string, cred: string) {
  return inventory.update(deviceId, (spec) => ({ ...spec, enroll_status: 'enrolled', credential: credential(cred) }));
}

/** Counts the calls that read many items: a lookup by credential must make none. */
function countingScans(inner: Backend): { backend: Backend; scans: () => number } {
  let scans = 0;
  const backend = new Proxy(inner, {
    get(target, prop) {
      if (prop === 'listPrefix' || prop === 'listRange') scans++;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { backend, scans: () => scans };
}

export function runDeviceIndexSuite(h: BackendHarness): void {
  const it = (name: string, fn: (t: TestContext) => Promise<void>): void => void test(`${h.name}: ${name}`, fn);

  it('a data dir written before the index keys is backfilled once; then lookups and uniqueness work', async (t) => {
    const store = await h.store(t);
    const old = await store.open();
    // The old layout: device records alone, as versions before 2026-11-26 stored them.
    const builder = new DeviceInventory(old);
    const records = ['SN-OLD-1', 'SN-OLD-2', 'SN-OLD-3'].map((tag) =>
      builder.build({ assetTag: tag, osType: 'linux' }),
    );
    records[0]!.spec = { ...records[0]!.spec, enroll_status: 'enrolled', credential: credential('cred-old-1') };
    records[1]!.spec = { ...records[1]!.spec, enroll_status: 'enrolled', credential: credential('cred/old+2') };
    for (const r of records) await old.put({ key: `/devices/${r.metadata.name}`, value: JSON.stringify(r) });
    const [a, b, c] = records.map((r) => r.metadata.name);
    assert.equal(await builder.findByCredential('cred-old-1'), undefined, 'without the keys the device is not found');

    const first = await migrateDeviceIndexes(old);
    assert.deepEqual(first, { applied: true, conflicts: [] });
    assert.equal((await old.get(claimKey('linux', 'SN-OLD-3')))?.value, c);
    assert.equal((await old.get(credentialKey('cred/old+2')))?.value, b);
    const second = await store.open();
    assert.deepEqual(await migrateDeviceIndexes(second), { applied: false, conflicts: [] }, 'runs once per database');

    const inventory = new DeviceInventory(second);
    assert.equal((await inventory.findByCredential('cred-old-1'))?.metadata.name, a);
    assert.equal((await inventory.findByCredential('cred/old+2'))?.metadata.name, b);
    await assert.rejects(enroll(inventory, c!, 'cred-old-1'), (e: GatehouseError) => {
      assert.equal(e.code, ErrorCode.ALREADY_EXISTS, e.message);
      assert.match(e.message, /already enrolled as device "SN-OLD-1"\/linux/);
      return true;
    });
    await assert.rejects(inventory.add({ assetTag: 'SN-OLD-2', osType: 'linux' }), (e: GatehouseError) => {
      return e.code === ErrorCode.ALREADY_EXISTS;
    });
  });

  it('old data breaking uniqueness: the older record keeps the key, the conflict is reported', async (t) => {
    const db = await (await h.store(t)).open();
    const builder = new DeviceInventory(db);
    const older = builder.build({ assetTag: 'SN-DUP', osType: 'linux' });
    const newer = builder.build({ assetTag: 'SN-DUP', osType: 'linux' });
    older.spec.create_time = '2026-01-01T00:00:00.000Z';
    newer.spec.create_time = '2026-02-01T00:00:00.000Z';
    for (const r of [newer, older]) await db.put({ key: `/devices/${r.metadata.name}`, value: JSON.stringify(r) });
    const { conflicts } = await migrateDeviceIndexes(db);
    assert.deepEqual(conflicts, [
      { key: claimKey('linux', 'SN-DUP'), kept: older.metadata.name, skipped: newer.metadata.name },
    ]);
    assert.equal((await db.get(claimKey('linux', 'SN-DUP')))?.value, older.metadata.name);
    assert.equal((await builder.list()).length, 2, 'nothing is deleted');
  });

  it('the same credential enrolled at once through two auth servers yields exactly one device', async (t) => {
    const store = await h.store(t);
    const [serverA, serverB] = [new DeviceInventory(await store.open()), new DeviceInventory(await store.open())];
    for (let round = 0; round < 5; round++) {
      const x = await serverA.add({ assetTag: `SN-X${round}`, osType: 'linux' });
      const y = await serverB.add({ assetTag: `SN-Y${round}`, osType: 'linux' });
      const cred = `cred-race-${round}`;
      const results = await Promise.allSettled([
        enroll(serverA, x.metadata.name, cred),
        enroll(serverB, y.metadata.name, cred),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: ${JSON.stringify(results.map((r) => r.status))}`);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal((lost.reason as GatehouseError).code, ErrorCode.ALREADY_EXISTS, String(lost.reason));
      const holders = (await serverA.list()).filter((d) => d.spec.credential?.id === cred);
      assert.equal(holders.length, 1, `round ${round}: one device holds the credential`);
      assert.equal((await serverB.findByCredential(cred))?.metadata.name, holders[0]!.metadata.name);
    }
  });

  it('lookup by credential reads its index key, never the inventory; the key follows unenroll and remove', async (t) => {
    const db = await (await h.store(t)).open();
    const writer = new DeviceInventory(db);
    for (let i = 0; i < 30; i++) await writer.add({ assetTag: `SN-FILL-${i}`, osType: 'linux' });
    const d = await writer.add({ assetTag: 'SN-LOOKUP', osType: 'linux' });
    await enroll(writer, d.metadata.name, 'cred-lookup');
    const counted = countingScans(db);
    const reader = new DeviceInventory(counted.backend);
    assert.equal((await reader.findByCredential('cred-lookup'))?.metadata.name, d.metadata.name);
    assert.equal(await reader.findByCredential('cred-unknown'), undefined);
    assert.equal(counted.scans(), 0, 'no listing of devices');
    await writer.update(d.metadata.name, (spec) => ({ ...spec, enroll_status: 'not_enrolled' }));
    assert.equal(await db.get(credentialKey('cred-lookup')), undefined, 'unenrolling drops the key');
    await enroll(writer, d.metadata.name, 'cred-lookup');
    await writer.remove(d.metadata.name);
    assert.equal(await db.get(credentialKey('cred-lookup')), undefined, 'removing drops the key');
    assert.equal(await reader.findByCredential('cred-lookup'), undefined);
  });
}
