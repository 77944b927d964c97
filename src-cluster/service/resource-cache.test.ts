import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { WatchResourcesEventSchema, type WatchResourcesEvent } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { cachedKindsFor, ResourceCache } from './resource-cache.ts';
import { cacheAppliedLine } from '../../test-support/cache-sync.ts';

const event = (e: MessageInitShape<typeof WatchResourcesEventSchema>): WatchResourcesEvent =>
  create(WatchResourcesEventSchema, e);
const role = (name: string) =>
  event({
    type: 'put',
    kind: 'role',
    name,
    resourceJson: JSON.stringify({ kind: 'role', version: 'v7', metadata: { name, revision: 7 }, spec: { allow: {} } }),
  });

async function withCache(fn: (cache: ResourceCache) => Promise<void>): Promise<void> {
  const cache = await ResourceCache.open({ tlsUserCaPems: ['join-ca'], sshUserCaKeys: [] }, createMemoryLogger());
  try {
    await fn(cache);
  } finally {
    await cache.close();
  }
}

test('a snapshot becomes the cache only at init, and a later snapshot removes what vanished', async () => {
  await withCache(async (cache) => {
    cache.beginSnapshot();
    await cache.apply(role('a'));
    await cache.apply(role('b'));
    assert.equal((await cache.roles.list()).length, 0, 'nothing is visible before init');
    assert.equal(cache.loaded, false);
    await cache.apply(event({ type: 'init' }));
    assert.deepEqual(
      (await cache.roles.list()).map((r) => r.metadata.name),
      ['a', 'b'],
    );
    assert.equal(cache.loaded, true);
    // Reconnect: "b" was deleted while the service was away.
    cache.beginSnapshot();
    await cache.apply(role('a'));
    await cache.apply(event({ type: 'init' }));
    assert.deepEqual(
      (await cache.roles.list()).map((r) => r.metadata.name),
      ['a'],
    );
  });
});

test('live changes apply at once; expired resources and deletes leave the cache', async () => {
  await withCache(async (cache) => {
    cache.beginSnapshot();
    await cache.apply(event({ type: 'init' }));
    const lock = (name: string, expires: string) =>
      event({
        type: 'put',
        kind: 'lock',
        name,
        resourceJson: JSON.stringify({
          kind: 'lock',
          version: 'v2',
          metadata: { name, expires },
          spec: { target: { user: 'bob' } },
        }),
      });
    await cache.apply(lock('live', new Date(Date.now() + 60_000).toISOString()));
    await cache.apply(lock('lapsed', new Date(Date.now() - 1_000).toISOString()));
    assert.deepEqual(
      (await cache.locks.list()).map((l) => l.metadata.name),
      ['live'],
    );
    await cache.apply(event({ type: 'delete', kind: 'lock', name: 'live' }));
    assert.deepEqual(await cache.locks.list(), []);
  });
});

test('the preference and the user CAs follow their events', async () => {
  await withCache(async (cache) => {
    assert.deepEqual(cache.cas().tlsUserCaPems, ['join-ca'], 'the join answer seeds the CAs');
    const heard: string[][] = [];
    cache.onCasChanged((cas) => heard.push(cas.tlsUserCaPems));
    await cache.apply(event({ type: 'ca', tlsUserCaPems: ['new-ca'], sshUserCaKeys: ['ssh-ed25519 AAAA'] }));
    assert.deepEqual(heard, [['new-ca']]);
    assert.deepEqual(cache.cas().sshUserCaKeys, ['ssh-ed25519 AAAA']);
    cache.beginSnapshot();
    const cap = {
      kind: 'cluster_auth_preference',
      version: 'v2',
      metadata: { name: 'cluster-auth-preference' },
      spec: { type: 'local', second_factor: 'off', locking_mode: 'strict', device_trust: { mode: 'required' } },
    };
    await cache.apply(
      event({
        type: 'put',
        kind: 'cluster_auth_preference',
        name: cap.metadata.name,
        resourceJson: JSON.stringify(cap),
      }),
    );
    await cache.apply(event({ type: 'init' }));
    assert.equal(cache.preference().spec.device_trust.mode, 'required');
    assert.equal(cache.preference().spec.locking_mode, 'strict');
  });
});

test('apps and live app services are cached for the proxy; each role watches only what it needs', async () => {
  await withCache(async (cache) => {
    const app = { kind: 'app', version: 'v3', metadata: { name: 'grafana' }, spec: { uri: 'http://127.0.0.1:3000' } };
    const appServer = (name: string, at: number) =>
      event({
        type: 'put',
        kind: 'app_server',
        name,
        resourceJson: JSON.stringify({
          role: 'app',
          name,
          address: `${name}:3082`,
          last_heartbeat: new Date(at).toISOString(),
        }),
      });
    cache.beginSnapshot();
    await cache.apply(event({ type: 'put', kind: 'app', name: 'grafana', resourceJson: JSON.stringify(app) }));
    await cache.apply(appServer('apps1', Date.now()));
    await cache.apply(appServer('apps2', Date.now() - 3600_000));
    await cache.apply(event({ type: 'init' }));
    assert.equal((await cache.apps.get('grafana')).spec.uri, 'http://127.0.0.1:3000');
    assert.equal(cache.appServers.live('apps1')?.address, 'apps1:3082');
    assert.equal(cache.appServers.live('apps2'), undefined, 'stale');
    assert.equal(cache.dbServers.live('apps1'), undefined, 'db and app services are kept apart');
    cache.beginSnapshot();
    await cache.apply(event({ type: 'init' }));
    assert.deepEqual(cache.appServers.allLive(), []);
    assert.equal((await cache.apps.list()).length, 0);
  });
  assert.deepEqual(cachedKindsFor('app'), ['role', 'user', 'lock', 'cluster_auth_preference', 'app']);
  assert.ok(cachedKindsFor('proxy').includes('app') && cachedKindsFor('proxy').includes('app_server'));
  assert.ok(!cachedKindsFor('db').includes('app'));
});

test('each change is logged once it is in the copy, removals by a new snapshot too (tests wait for these lines)', async () => {
  const log = createMemoryLogger('debug');
  // As ServiceRuntime names it.
  const cache = await ResourceCache.open({ tlsUserCaPems: [], sshUserCaKeys: [] }, log.child('cache'));
  try {
    cache.beginSnapshot();
    await cache.apply(role('a'));
    await cache.apply(role('b'));
    await cache.apply(event({ type: 'init' }));
    await cache.apply(event({ type: 'delete', kind: 'role', name: 'a' }));
    cache.beginSnapshot();
    await cache.apply(event({ type: 'init' }));
    const applied = log.lines
      .filter((l) => l.includes('resource cache applied'))
      .map((l) => l.replace(/^.*resource cache applied /, ''));
    assert.deepEqual(applied, [
      'kind=role name=a type=put',
      'kind=role name=b type=put',
      'kind=role name=a type=delete',
      'kind=role name=b type=delete',
    ]);
    // The harnesses' pattern (prefixed with the process label) matches the line as logged.
    const line = log.lines.find((l) => l.endsWith('kind=role name=b type=delete'))!;
    assert.match(`[proxy] ${line}`, cacheAppliedLine('proxy', { kind: 'role', name: 'b', type: 'delete' }));
    assert.doesNotMatch(`[proxy] ${line}`, cacheAppliedLine('node', { kind: 'role', name: 'b', type: 'delete' }));
  } finally {
    await cache.close();
  }
});
