import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../storage/sqlite.ts';
import { ResourceStore } from '../storage/resources.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import type { HostIdentity } from '../auth/host-identity.ts';
import { SERVER_STALE_MS, ServerInventory, type NodeRegistry } from './server-inventory.ts';

async function open() {
  const clock = { now: Date.now() };
  const backend = await SqliteBackend.open({ path: ':memory:', now: () => clock.now });
  const nodes = new ResourceStore<{ address: string; hostname: string; labels: Record<string, string> }>(backend, {
    kind: 'node',
  });
  const registry: NodeRegistry = {
    heartbeatNode: async (name, spec) => {
      await nodes.upsert({ kind: 'node', version: 'v1', metadata: { name, labels: spec.labels }, spec });
    },
    removeNode: (name) => nodes.delete(name),
    listNodes: () => nodes.list(),
  };
  return { backend, nodes, clock, inventory: new ServerInventory(backend, registry, () => clock.now) };
}

const host = (over: Partial<HostIdentity> = {}): HostIdentity => ({
  hostId: 'h-1',
  name: 'n1',
  role: 'node',
  clusterName: 'c',
  notAfter: new Date(Date.now() + 3600_000),
  ...over,
});
const beat = { address: '127.0.0.1:3022', hostname: 'box', version: '0.1.0', labels: { env: 'dev' } };

test('a node heartbeat lists the server with version and time, and keeps the node resource for routing', async () => {
  const { backend, nodes, inventory, clock } = await open();
  await inventory.heartbeat(host(), beat);
  await inventory.heartbeat(host({ role: 'proxy', name: 'p1', hostId: 'h-2' }), { ...beat, address: 'localhost:3080' });
  const listed = await inventory.list();
  assert.deepEqual(
    listed.map((s) => [s.role, s.name, s.host_id, s.address, s.version, s.stale]),
    [
      ['node', 'n1', 'h-1', '127.0.0.1:3022', '0.1.0', false],
      ['proxy', 'p1', 'h-2', 'localhost:3080', '0.1.0', false],
    ],
  );
  assert.equal(Date.parse(listed[0]!.last_heartbeat), clock.now);
  assert.equal((await nodes.get('n1')).spec.address, '127.0.0.1:3022');
  assert.deepEqual(
    (await inventory.list('proxy')).map((s) => s.name),
    ['p1'],
  );
  clock.now += SERVER_STALE_MS + 1;
  assert.deepEqual(
    (await inventory.list('proxy')).map((s) => s.stale),
    [true],
  );
  await backend.close();
});

test('names are unique per role while the holder is live; a stale holder gives the name up', async () => {
  const { backend, inventory, clock } = await open();
  await inventory.heartbeat(host(), beat);
  await assert.rejects(inventory.heartbeat(host({ hostId: 'h-other' }), beat), { code: ErrorCode.ALREADY_EXISTS });
  await inventory.requireNameFree('proxy', 'n1');
  clock.now += SERVER_STALE_MS + 1;
  await inventory.heartbeat(host({ hostId: 'h-other' }), beat);
  assert.deepEqual(
    (await inventory.list()).map((s) => s.host_id),
    ['h-other'],
  );
  await backend.close();
});

test("remove drops only the caller's own record (and its node resource)", async () => {
  const { backend, nodes, inventory } = await open();
  await inventory.heartbeat(host(), beat);
  await inventory.remove(host({ hostId: 'someone-else' }));
  assert.equal((await inventory.list()).length, 1);
  await inventory.remove(host());
  assert.deepEqual(await inventory.list(), []);
  assert.equal(await nodes.find('n1'), undefined);
  await backend.close();
});

test('in-process nodes without a server record are still listed; bad heartbeats are refused', async () => {
  const { backend, nodes, inventory } = await open();
  await nodes.upsert({
    kind: 'node',
    version: 'v1',
    metadata: { name: 'legacy' },
    spec: { address: '127.0.0.1:1', hostname: 'x', labels: {} },
  });
  assert.deepEqual(
    (await inventory.list()).map((s) => [s.name, s.host_id]),
    [['legacy', '']],
  );
  await assert.rejects(inventory.heartbeat(host(), { ...beat, address: 'no-port' }), /HOST:PORT/);
  await assert.rejects(inventory.heartbeat(host(), { ...beat, labels: { 'bad key!': 'v' } }), /label key/);
  await assert.rejects(inventory.heartbeat(host(), { ...beat, version: 'v'.repeat(300) }), /version/);
  await backend.close();
});
