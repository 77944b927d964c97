import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../storage/sqlite.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import type { HostIdentity } from '../auth/host-identity.ts';
import { allowedWatchKinds, watchResources, type ResourceWatchDeps, type WatchedEvent } from './resource-watch.ts';

const host = (role: HostIdentity['role']): HostIdentity => ({
  hostId: 'h',
  name: 'n',
  role,
  clusterName: 'c',
  notAfter: new Date(Date.now() + 60_000),
});
const doc = (kind: string, name: string, spec: unknown = {}) =>
  JSON.stringify({ kind, version: 'v1', metadata: { name }, spec });

async function open(sendQueueLimit?: number) {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  const deps: ResourceWatchDeps = {
    backend,
    prefixes: { role: '/roles/', lock: '/locks/', node: '/nodes/' },
    caPublicParts: () => ({ tlsUserCaPems: ['PEM'], sshUserCaKeys: ['KEY'] }),
    ...(sendQueueLimit ? { sendQueueLimit } : {}),
  };
  return { backend, deps };
}

async function take(it: AsyncIterator<WatchedEvent>, n: number): Promise<WatchedEvent[]> {
  const out: WatchedEvent[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

test('kinds are limited per role: a node may not watch nodes, a proxy may', () => {
  const known = ['role', 'lock', 'node'];
  assert.deepEqual(allowedWatchKinds(host('node'), [], known), ['role', 'lock']);
  assert.deepEqual(allowedWatchKinds(host('proxy'), [], known), ['role', 'lock', 'node']);
  assert.throws(() => allowedWatchKinds(host('node'), ['node'], known), { code: ErrorCode.ACCESS_DENIED });
  assert.throws(() => allowedWatchKinds(host('proxy'), ['credentials'], known), { code: ErrorCode.ACCESS_DENIED });
});

test('databases (kind db) are served to proxies and db services, not to nodes', () => {
  const known = ['role', 'lock', 'node', 'db'];
  assert.deepEqual(allowedWatchKinds(host('proxy'), [], known), ['role', 'lock', 'node', 'db']);
  assert.deepEqual(allowedWatchKinds(host('db'), [], known), ['role', 'lock', 'db']);
  assert.deepEqual(allowedWatchKinds(host('db'), ['db'], known), ['db']);
  assert.throws(() => allowedWatchKinds(host('node'), ['db'], known), { code: ErrorCode.ACCESS_DENIED });
  assert.throws(() => allowedWatchKinds(host('db'), ['node'], known), { code: ErrorCode.ACCESS_DENIED });
});

test('apps (kind app) and app services are served to proxies, apps to app services with roles and locks', () => {
  const known = ['role', 'user', 'lock', 'cluster_auth_preference', 'node', 'db', 'db_server', 'app', 'app_server'];
  assert.deepEqual(allowedWatchKinds(host('app'), [], known), [
    'role',
    'user',
    'lock',
    'cluster_auth_preference',
    'app',
  ]);
  assert.deepEqual(allowedWatchKinds(host('proxy'), ['app', 'app_server'], known), ['app', 'app_server']);
  for (const role of ['node', 'db'] as const) {
    assert.throws(() => allowedWatchKinds(host(role), ['app'], known), { code: ErrorCode.ACCESS_DENIED });
  }
  assert.throws(() => allowedWatchKinds(host('app'), ['db'], known), { code: ErrorCode.ACCESS_DENIED });
  assert.throws(() => allowedWatchKinds(host('app'), ['app_server'], known), { code: ErrorCode.ACCESS_DENIED });
});

test('ca, the snapshot, init, then live puts and deletes in order; other prefixes never appear', async () => {
  const { backend, deps } = await open();
  await backend.put({ key: '/roles/a', value: doc('role', 'a') });
  await backend.put({ key: '/credentials/a', value: '{"passwordHash":"secret"}' });
  const abort = new AbortController();
  const it = watchResources(deps, ['role', 'lock'], abort.signal)[Symbol.asyncIterator]();
  const first = await take(it, 3);
  assert.deepEqual(
    first.map((e) => [e.type, e.kind, e.name]),
    [
      ['ca', '', ''],
      ['put', 'role', 'a'],
      ['init', '', ''],
    ],
  );
  assert.deepEqual(first[0]!.tlsUserCaPems, ['PEM']);
  assert.equal(
    typeof (JSON.parse(first[1]!.resourceJson) as { metadata: { revision: number } }).metadata.revision,
    'number',
  );
  await backend.put({ key: '/credentials/b', value: '{"passwordHash":"secret"}' });
  await backend.put({ key: '/locks/l1', value: doc('lock', 'l1') });
  await backend.delete('/roles/a');
  const live = await take(it, 2);
  assert.deepEqual(
    live.map((e) => [e.type, e.kind, e.name]),
    [
      ['put', 'lock', 'l1'],
      ['delete', 'role', 'a'],
    ],
  );
  abort.abort();
  assert.equal((await it.next()).done, true, 'the stream ends when the caller goes away');
  await backend.close();
});

test('a watcher that falls behind its send queue is ended with an error to resync', async () => {
  const { backend, deps } = await open(4);
  const abort = new AbortController();
  const it = watchResources(deps, ['role'], abort.signal)[Symbol.asyncIterator]();
  await take(it, 2); // ca, init
  for (let i = 0; i < 10; i++) await backend.put({ key: `/roles/r${i}`, value: doc('role', `r${i}`) });
  await new Promise((r) => setTimeout(r, 200));
  await assert.rejects(take(it, 10), /fell more than 4 events behind; reconnect and resync/);
  await backend.close();
});
