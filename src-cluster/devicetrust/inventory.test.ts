import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import { DeviceInventory, hashEnrollToken } from './inventory.ts';

async function setup(t: { after: (fn: () => Promise<void>) => void }) {
  let clock = Date.parse('2026-03-01T10:00:00Z');
  const backend = await SqliteBackend.open({ path: ':memory:', now: () => clock });
  t.after(() => backend.close());
  const inventory = new DeviceInventory(backend, { now: () => new Date(clock) });
  return { backend, inventory, advance: (ms: number) => (clock += ms) };
}

async function rejects(p: Promise<unknown>, code: ErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof GatehouseError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('add makes a uuid-named, unenrolled api device; asset tags are unique per OS', async (t) => {
  const { inventory } = await setup(t);
  const d = await inventory.add({ assetTag: 'SN-1', osType: 'linux' });
  assert.match(d.metadata.name, /^[0-9a-f-]{36}$/);
  assert.equal(d.spec.enroll_status, 'not_enrolled');
  assert.equal(d.spec.source, 'api');
  assert.equal(d.spec.create_time, '2026-03-01T10:00:00.000Z');
  await rejects(
    inventory.add({ assetTag: 'SN-1', osType: 'linux' }),
    ErrorCode.ALREADY_EXISTS,
    new RegExp(`device "SN-1"/linux already exists \\(id ${d.metadata.name}\\)`),
  );
  const mac = await inventory.add({ assetTag: 'SN-1', osType: 'macos' });
  assert.equal((await inventory.list()).length, 2);
  await rejects(inventory.find('SN-1'), ErrorCode.BAD_REQUEST, /several OSes \(linux, macos\); use the device id/);
  assert.equal((await inventory.findByAssetTag('SN-1', 'macos'))?.metadata.name, mac.metadata.name);
  await rejects(
    inventory.add({ assetTag: 'SN-2', osType: 'beos' }),
    ErrorCode.BAD_REQUEST,
    /allowed: linux, macos, windows/,
  );
});

test('find by id or tag, remove, update; unenrolling clears the credential', async (t) => {
  const { inventory, advance } = await setup(t);
  const d = await inventory.add({ assetTag: 'SN-9', osType: 'windows', owner: 'alice' });
  assert.equal((await inventory.get(d.metadata.name)).spec.asset_tag, 'SN-9');
  assert.equal((await inventory.get('SN-9')).metadata.name, d.metadata.name);
  advance(1000);
  const enrolled = await inventory.update('SN-9', (spec) => ({
    ...spec,
    enroll_status: 'enrolled',
    credential: { id: 'cred', public_key: 'AAEA', attestation_type: 'ekpub' },
  }));
  assert.equal(enrolled.spec.credential?.id, 'cred');
  assert.equal(enrolled.spec.update_time, '2026-03-01T10:00:01.000Z');
  assert.equal(enrolled.spec.create_time, '2026-03-01T10:00:00.000Z');
  const un = await inventory.update(d.metadata.name, (spec) => ({ ...spec, enroll_status: 'not_enrolled' }));
  assert.equal(un.spec.credential, undefined);
  for (let i = 0; i < 12; i++) {
    await inventory.recordCollectedData('SN-9', {
      collect_time: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
      os_type: 'windows',
      serial_number: `s${i}`,
    });
  }
  const snaps = (await inventory.get('SN-9')).spec.collected_data;
  assert.deepEqual(
    snaps.map((s) => s.serial_number),
    ['s2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11'],
  );
  await inventory.remove('SN-9');
  assert.equal(await inventory.find('SN-9'), undefined);
  await rejects(inventory.remove('SN-9'), ErrorCode.NOT_FOUND, /no device with id or asset tag "SN-9"/);
});

test('enroll tokens: stored hashed, single use, expiring, with distinct errors', async (t) => {
  const { backend, inventory, advance } = await setup(t);
  const d = await inventory.add({ assetTag: 'SN-5', osType: 'linux' });
  const t1 = await inventory.createEnrollToken('SN-5');
  assert.equal(t1.deviceId, d.metadata.name);
  assert.equal(t1.expires.toISOString(), '2026-03-01T11:00:00.000Z');
  const stored = await backend.listPrefix('/device_tokens/');
  assert.equal(stored.length, 1);
  assert.equal(stored[0]?.key, `/device_tokens/${hashEnrollToken(t1.token)}`);
  assert.ok(!stored[0]?.value.includes(t1.token), 'the token itself is never stored');
  // The record outlives the token a day, so a late try is told "expired" rather than "unknown".
  assert.equal(stored[0]?.expires?.getTime(), t1.expires.getTime() + 24 * 60 * 60 * 1000);

  assert.equal(await inventory.spendEnrollToken(t1.token), d.metadata.name);
  await rejects(inventory.spendEnrollToken(t1.token), ErrorCode.BAD_CREDENTIALS, /already used; ask an admin/);
  await rejects(inventory.spendEnrollToken('nope'), ErrorCode.BAD_CREDENTIALS, /unknown or expired enroll token/);
  await rejects(inventory.spendEnrollToken(''), ErrorCode.BAD_REQUEST, /token is required/);

  // Two concurrent spends of one token: exactly one wins.
  const t2 = await inventory.createEnrollToken(d.metadata.name, 60_000);
  const results = await Promise.allSettled([
    inventory.spendEnrollToken(t2.token),
    inventory.spendEnrollToken(t2.token),
  ]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);

  const t3 = await inventory.createEnrollToken(d.metadata.name, 60_000);
  advance(60_001);
  await rejects(inventory.spendEnrollToken(t3.token), ErrorCode.BAD_CREDENTIALS, /expired at/);
  const t4 = await inventory.createEnrollToken(d.metadata.name, 60_000);
  advance(60_000 + 24 * 60 * 60 * 1000 + 1);
  await rejects(inventory.spendEnrollToken(t4.token), ErrorCode.BAD_CREDENTIALS, /unknown or expired/);
  await rejects(inventory.createEnrollToken('missing'), ErrorCode.NOT_FOUND, /no device/);
  await rejects(inventory.createEnrollToken('SN-5', 0), ErrorCode.BAD_REQUEST, /TTL must be positive/);
});

test('resource hooks: server-made id and defaults, unique tags on update, lookup by tag', async (t) => {
  const { inventory } = await setup(t);
  const hooks = inventory.resourceHooks();
  const doc: Record<string, unknown> = { kind: 'device', version: 'v1', spec: { asset_tag: 'A', os_type: 'macos' } };
  hooks.prepareCreate(doc);
  const meta = doc['metadata'] as { name: string };
  assert.match(meta.name, /^[0-9a-f-]{36}$/);
  assert.deepEqual(doc['spec'], {
    asset_tag: 'A',
    os_type: 'macos',
    enroll_status: 'not_enrolled',
    collected_data: [],
    source: 'api',
    create_time: '2026-03-01T10:00:00.000Z',
    update_time: '2026-03-01T10:00:00.000Z',
  });
  const a = await hooks.create(doc as never);
  const b = await inventory.add({ assetTag: 'B', osType: 'macos' });
  assert.equal(await hooks.resolveName('A'), a.metadata.name);
  await rejects(
    hooks.update({ ...b, spec: { ...b.spec, asset_tag: 'A' } }),
    ErrorCode.ALREADY_EXISTS,
    /device "A"\/macos already exists/,
  );
  const un = await hooks.update({
    ...b,
    spec: {
      ...b.spec,
      enroll_status: 'not_enrolled',
      credential: { id: 'x', public_key: 'AA==', attestation_type: 'ekpub' },
    },
  });
  assert.equal((un.spec as { credential?: unknown }).credential, undefined);
});

test('concurrent adds of one asset tag: exactly one wins, even though each scan saw it free', async (t) => {
  const { inventory } = await setup(t);
  const results = await Promise.allSettled(
    Array.from({ length: 5 }, () => inventory.add({ assetTag: 'RACE-1', osType: 'linux' })),
  );
  const won = results.filter((r) => r.status === 'fulfilled');
  assert.equal(won.length, 1);
  for (const r of results) {
    if (r.status === 'rejected') {
      assert.ok(r.reason instanceof GatehouseError);
      assert.equal(r.reason.code, ErrorCode.ALREADY_EXISTS);
    }
  }
  assert.equal((await inventory.list()).length, 1);
});

test('a tag is free again after remove, after a retag, and after a delete that bypassed the inventory', async (t) => {
  const { inventory } = await setup(t);
  const a = await inventory.add({ assetTag: 'TAG-A', osType: 'linux' });
  await inventory.remove(a.metadata.name);
  const b = await inventory.add({ assetTag: 'TAG-A', osType: 'linux' });

  await inventory.update(b.metadata.name, (spec) => ({ ...spec, asset_tag: 'TAG-B' }));
  await inventory.add({ assetTag: 'TAG-A', osType: 'linux' });
  await rejects(
    inventory.add({ assetTag: 'TAG-B', osType: 'linux' }),
    ErrorCode.ALREADY_EXISTS,
    /"TAG-B"\/linux already exists/,
  );

  // The generic resource API deletes through the store; the claim left behind is stale, not binding.
  await inventory.store.delete(b.metadata.name);
  const c = await inventory.add({ assetTag: 'TAG-B', osType: 'linux' });
  assert.equal(c.spec.asset_tag, 'TAG-B');
});

test('enroll tokens are hex, so a command line never reads one as an option', async (t) => {
  const { inventory } = await setup(t);
  await inventory.add({ assetTag: 'SN-HEX', osType: 'linux' });
  for (let i = 0; i < 20; i++) {
    const { token } = await inventory.createEnrollToken('SN-HEX');
    assert.match(token, /^[0-9a-f]{48}$/);
  }
});

test('findByCredential follows the credential when it moves, is unenrolled or its device removed', async (t) => {
  const { inventory } = await setup(t);
  const enroll = (id: string, cred: string) =>
    inventory.update(id, (spec) => ({
      ...spec,
      enroll_status: 'enrolled',
      credential: { id: cred, public_key: 'AAEA', attestation_type: 'ekpub' },
    }));
  const a = await inventory.add({ assetTag: 'SN-A', osType: 'linux' });
  const b = await inventory.add({ assetTag: 'SN-B', osType: 'linux' });
  assert.equal(await inventory.findByCredential('cred'), undefined);
  await enroll(a.metadata.name, 'cred');
  assert.equal((await inventory.findByCredential('cred'))?.metadata.name, a.metadata.name);
  // Unenrolled: its index key is gone, so the credential names no device.
  await inventory.update(a.metadata.name, (spec) => ({ ...spec, enroll_status: 'not_enrolled' }));
  assert.equal(await inventory.findByCredential('cred'), undefined);
  await enroll(b.metadata.name, 'cred');
  assert.equal((await inventory.findByCredential('cred'))?.metadata.name, b.metadata.name);
  const fresh = await inventory.findByCredential('cred');
  assert.equal(fresh?.spec.update_time, (await inventory.get(b.metadata.name)).spec.update_time);
  await inventory.remove(b.metadata.name);
  assert.equal(await inventory.findByCredential('cred'), undefined);
});

test("update writes alsoWrite in the record's transaction: both or neither", async (t) => {
  const { backend, inventory } = await setup(t);
  const d = await inventory.add({ assetTag: 'SN-7', osType: 'linux' });
  assert.equal(inventory.storage, backend);
  const renamed = await inventory.update(d.metadata.name, (spec) => ({ ...spec, owner: 'bob' }), [
    { type: 'create', item: { key: '/test/alongside/1', value: 'x' } },
  ]);
  assert.equal(renamed.spec.owner, 'bob');
  assert.equal((await backend.get('/test/alongside/1'))?.value, 'x');
  // The same key again cannot be created: the record's change is not stored either.
  await assert.rejects(
    inventory.update(d.metadata.name, (spec) => ({ ...spec, owner: 'carol' }), [
      { type: 'create', item: { key: '/test/alongside/1', value: 'y' } },
    ]),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.ALREADY_EXISTS,
  );
  assert.equal((await inventory.get(d.metadata.name)).spec.owner, 'bob');
  assert.equal((await backend.get('/test/alongside/1'))?.value, 'x');
});

test('two concurrent enroll writes of one device with one credential: exactly one wins, the other is refused', async (t) => {
  const { inventory } = await setup(t);
  const d = await inventory.add({ assetTag: 'SN-TWICE', osType: 'linux' });
  const enrollWith = (credentialId: string, at: string) =>
    inventory.enroll(d.metadata.name, (spec) => ({
      ...spec,
      enroll_status: 'enrolled',
      credential: { id: credentialId, public_key: 'AAEA', attestation_type: 'ekpub', enroll_time: at },
    }));
  const results = await Promise.allSettled([
    enrollWith('cred-1', '2026-03-01T10:00:01Z'),
    enrollWith('cred-1', '2026-03-01T10:00:02Z'),
  ]);
  const won = results.filter((r) => r.status === 'fulfilled');
  assert.equal(won.length, 1, 'one of the two writes enrolls the device');
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  assert.ok(lost.reason instanceof GatehouseError, String(lost.reason));
  assert.equal(lost.reason.code, ErrorCode.ALREADY_EXISTS);
  assert.match(lost.reason.message, /device "SN-TWICE"\/linux is already enrolled with this attestation key/);
  assert.equal(lost.reason.details?.['reason'], 'already_enrolled');
  assert.equal((await inventory.findByCredential('cred-1'))?.metadata.name, d.metadata.name);
  // Another key may still replace the enrolled one (a new AK after a reinstall), and unenrolled
  // the device takes the first key again.
  assert.equal((await enrollWith('cred-2', '2026-03-01T10:00:03Z')).spec.credential?.id, 'cred-2');
  await inventory.update(d.metadata.name, (spec) => ({ ...spec, enroll_status: 'not_enrolled' }));
  assert.equal((await enrollWith('cred-1', '2026-03-01T10:00:04Z')).spec.credential?.id, 'cred-1');
});
