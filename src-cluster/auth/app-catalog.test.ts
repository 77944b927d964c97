import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../storage/sqlite.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { newRole, type RoleSpec } from '../resources/role.ts';
import { RoleSet } from '../resources/role-set.ts';
import { APP_ORIGIN_LABEL, APP_SERVICE_LABEL, newApp, type AppResource } from '../resources/app.ts';
import { AppCatalog, appsVisibleTo, MAX_REGISTERED_APPS } from './app-catalog.ts';

const backends: SqliteBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function catalog() {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  backends.push(backend);
  return new AppCatalog(backend, createMemoryLogger());
}

const web = (name: string, labels: Record<string, string>, uri = `http://${name}.internal:3000`) =>
  newApp(name, { uri }, { labels });
const roles = (...specs: Array<[string, RoleSpec]>) => specs.map(([name, spec]) => newRole(name, spec));

test('a user sees the apps their app_labels match, deny wins, device trust not applied', () => {
  const set = new RoleSet(
    roles(
      ['obs', { allow: { app_labels: { team: 'obs' } } }],
      ['trusted', { allow: { app_labels: { env: 'prod' } }, options: { device_trust_mode: 'required' } }],
      ['no-secret', { deny: { app_labels: { secret: 'yes' } } }],
    ),
    {},
  );
  const apps = [
    web('grafana', { team: 'obs' }),
    newApp('pg', { uri: 'tcp://127.0.0.1:5432', public_addr: 'pg.example.com' }, { labels: { env: 'prod' } }),
    web('vault', { env: 'prod', secret: 'yes' }),
    web('wiki', { team: 'docs' }),
  ] as never;
  assert.deepEqual(appsVisibleTo(set, apps), [
    {
      name: 'grafana',
      kind: 'http',
      labels: { team: 'obs' },
      uri: 'http://grafana.internal:3000',
      publicAddr: '',
      description: '',
    },
    {
      name: 'pg',
      kind: 'tcp',
      labels: { env: 'prod' },
      uri: 'tcp://127.0.0.1:5432',
      publicAddr: 'pg.example.com',
      description: '',
    },
  ]);
  assert.deepEqual(appsVisibleTo(new RoleSet([], {}), apps), []);
});

test('an app service registration replaces what it registered before, labelled; others are left alone', async () => {
  const c = await catalog();
  await c.store.create(web('admin-app', {}) as never);
  const doc = (name: string, extra: Record<string, string> = {}) =>
    JSON.stringify(web(name, { team: 'a', [APP_SERVICE_LABEL]: 'spoofed', ...extra }));
  assert.deepEqual(await c.register('app-1', [doc('a'), doc('b')]), { written: 2, deleted: 0 });
  await c.register('app-2', [doc('c')]);
  const a = (await c.find('a')) as AppResource;
  assert.deepEqual(a.metadata.labels, { team: 'a', [APP_SERVICE_LABEL]: 'app-1', [APP_ORIGIN_LABEL]: 'config' });
  assert.deepEqual(await c.register('app-1', [doc('a'), doc('b')]), { written: 0, deleted: 0 });
  assert.deepEqual(await c.register('app-1', [doc('a', { team: 'b' })]), { written: 1, deleted: 1 });
  assert.deepEqual(
    (await c.list()).map((d) => d.metadata.name),
    ['a', 'admin-app', 'c'],
  );
  assert.equal(await c.exists('b'), false);
  assert.equal(await c.find('nope'), undefined);
});

test('registrations that would take over, repeat, exceed or break apps are refused whole', async () => {
  const c = await catalog();
  await c.store.create(web('admin-app', {}) as never);
  await c.register('app-2', [JSON.stringify(web('theirs', {}))]);
  const mine = JSON.stringify(web('mine', {}));
  const refused = (docs: string[], code: string, message: RegExp) =>
    assert.rejects(c.register('app-1', docs), (e: unknown) => {
      assert.ok(e instanceof GatehouseError);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });
  await refused([mine, JSON.stringify(web('admin-app', {}))], ErrorCode.ALREADY_EXISTS, /created by an admin/);
  await refused([JSON.stringify(web('theirs', {}))], ErrorCode.ALREADY_EXISTS, /registered by app service "app-2"/);
  await refused([mine, mine], ErrorCode.BAD_REQUEST, /app "mine" is listed twice/);
  await refused(['{'], ErrorCode.BAD_REQUEST, /app 1: not valid JSON/);
  const badField = JSON.stringify({ ...web('x', {}), spec: { uri: 'http://h', rewrite: { headers: [{ nam: 'a' }] } } });
  await refused([badField], ErrorCode.INVALID_RESOURCE, /^app 1: [^]*spec\.rewrite\.headers\[0\]\.nam: unknown field/);
  await refused(Array(MAX_REGISTERED_APPS + 1).fill(mine), ErrorCode.REQUEST_TOO_LARGE, /at most 1000 apps/);
  assert.equal(await c.exists('mine'), false);
});
