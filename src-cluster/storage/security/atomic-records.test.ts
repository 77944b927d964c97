// Issue 11, finding 14 at the unit level: records that only make sense together are written in
// one transaction, so when one of them cannot be written (a precondition fails) none of them is.
// The crash half of the finding is src-cluster/integration/crash-writes.test.ts.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { AuditLog } from '../../audit/audit-log.ts';
import { claimKey } from '../../devicetrust/asset-tag-claims.ts';
import { DeviceInventory, hashEnrollToken } from '../../devicetrust/inventory.ts';
import { ResourceStore } from '../resources.ts';
import { SqliteBackend } from '../sqlite.ts';
import type { Backend, BatchOp } from '../backend.ts';

async function open(t: TestContext): Promise<SqliteBackend> {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  t.after(() => backend.close());
  return backend;
}

const keys = async (b: SqliteBackend) => (await b.listPrefix('/')).map((i) => i.key);

test('a resource created with alongside writes: all of them or none', async (t) => {
  const b = await open(t);
  const users = new ResourceStore<{ roles: string[] }>(b, { kind: 'user' });
  const ann = { kind: 'user', version: 'v2', metadata: { name: 'ann' }, spec: { roles: ['a'] } };
  await b.put({ key: '/taken', value: '' });
  await assert.rejects(
    users.create(ann, [{ type: 'create', item: { key: '/taken', value: 'creds' } }]),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.ALREADY_EXISTS && e.details?.['op'] === 1,
  );
  assert.deepEqual(await keys(b), ['/taken'], 'the user was not stored without its credentials');
  const created = await users.create(ann, [{ type: 'put', item: { key: '/credentials/ann', value: 'c' } }]);
  assert.equal(created.metadata.name, 'ann');
  assert.deepEqual(await keys(b), ['/credentials/ann', '/taken', '/users/ann']);
  // A name that exists still gets the resource's own message, not the batch's.
  await assert.rejects(
    users.create(ann, [{ type: 'put', item: { key: '/x', value: '' } }]),
    /user "ann" already exists/,
  );
  assert.equal(await b.get('/x'), undefined);
});

test('a device and its asset-tag claim are stored together; a failed create leaves no claim', async (t) => {
  const b = await open(t);
  const inventory = new DeviceInventory(b);
  const first = await inventory.add({ assetTag: 'SN-1', osType: 'linux' });
  assert.equal((await b.get(claimKey('linux', 'SN-1')))?.value, first.metadata.name);
  // Same id, another tag: the device create fails, so the new tag's claim must not stay behind.
  const clash = inventory.build({ assetTag: 'SN-2', osType: 'linux' });
  clash.metadata.name = first.metadata.name;
  await assert.rejects(
    inventory.create(clash),
    (e: unknown) => (e as GatehouseError).code === ErrorCode.ALREADY_EXISTS,
  );
  assert.equal(await b.get(claimKey('linux', 'SN-2')), undefined);
});

test('spending an enroll token removes it and leaves its tombstone in one step', async (t) => {
  const b = await open(t);
  const inventory = new DeviceInventory(b);
  const d = await inventory.add({ assetTag: 'SN-3', osType: 'linux' });
  const { token } = await inventory.createEnrollToken(d.metadata.name);
  assert.equal(await inventory.spendEnrollToken(token), d.metadata.name);
  const hash = hashEnrollToken(token);
  assert.equal(await b.get(`/device_tokens/${hash}`), undefined);
  assert.match((await b.get(`/device_tokens_spent/${hash}`))!.value, new RegExp(d.metadata.name));
  await assert.rejects(inventory.spendEnrollToken(token), /already used/);
});

test('an audit event is stored with its index keys, or not at all', async (t) => {
  const b = await open(t);
  const ms = Date.parse('2026-05-01T00:00:00Z');
  const log = new AuditLog(b, { now: () => ms });
  const event = await log.append({ type: 'user.login', success: true, user: 'ann' });
  const suffix = `${event.time}/000000/${event.id}`;
  assert.deepEqual(await keys(b), [
    `/audit/by_type/user.login/${suffix}`,
    `/audit/by_user/ann/${suffix}`,
    `/audit/events/${suffix}`,
  ]);
  // Make the user index, the batch's last op, collide with a key that exists: the transaction
  // then fails after the event and its type index were written inside it. (Before, the three
  // were separate writes and the event and its type index stayed behind.) User names are
  // bounded, so a real name can no longer make that key fail: the collision stands in for any
  // failure of the last write.
  const taken = '/audit/by_user/taken';
  await b.put({ key: taken, value: '' });
  const lastOpCollides = {
    batch: (ops: BatchOp[]) =>
      b.batch(
        ops.map((op, i) =>
          i === ops.length - 1 && op.type === 'create' ? { ...op, item: { ...op.item, key: taken } } : op,
        ),
      ),
  } as unknown as Backend;
  const before = await keys(b);
  await assert.rejects(
    new AuditLog(lastOpCollides, { now: () => ms }).append({ type: 'user.login', success: false, user: 'bob' }),
    /audit log could not record/,
  );
  assert.deepEqual(await keys(b), before, 'no event and no type index without the user index');
});

test('a device added with its enroll token: both or neither', async (t) => {
  const b = await open(t);
  const inventory = new DeviceInventory(b);
  const t1 = await inventory.addWithEnrollToken({ assetTag: 'SN-4', osType: 'linux' });
  const stored = await b.get(`/device_tokens/${hashEnrollToken(t1.token)}`);
  assert.match(stored!.value, new RegExp(t1.deviceId));
  assert.equal((await inventory.get('SN-4')).metadata.name, t1.deviceId);
  // The tag is taken: no second device, and no token for it either.
  const before = await keys(b);
  await assert.rejects(inventory.addWithEnrollToken({ assetTag: 'SN-4', osType: 'linux' }), /already exists/);
  assert.deepEqual(await keys(b), before);
  assert.equal(await inventory.spendEnrollToken(t1.token), t1.deviceId);
});
