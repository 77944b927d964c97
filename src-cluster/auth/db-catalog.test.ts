import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteBackend } from '../storage/sqlite.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { newRole, type RoleSpec } from '../resources/role.ts';
import { RoleSet } from '../resources/role-set.ts';
import { newDatabase, DB_ORIGIN_LABEL, DB_SERVICE_LABEL, type DatabaseResource } from '../resources/database.ts';
import { DatabaseCatalog, databasesVisibleTo, MAX_REGISTERED_DATABASES } from './db-catalog.ts';

const backends: SqliteBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function catalog() {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  backends.push(backend);
  return { backend, catalog: new DatabaseCatalog(backend, createMemoryLogger()) };
}

const pg = (name: string, labels: Record<string, string>) =>
  newDatabase(name, { protocol: 'postgres', uri: `${name}.internal:5432` }, { labels });
const asStored = (d: DatabaseResource) => d as never;
const roles = (...specs: Array<[string, RoleSpec]>) => specs.map(([name, spec]) => newRole(name, spec));

test('a user sees the databases their db_labels match, deny wins, with the db users and names allowed there', () => {
  const set = new RoleSet(
    roles(
      ['dev', { allow: { db_labels: { env: 'dev' }, db_users: ['{{internal.db_users}}', 'ro'], db_names: ['*'] } }],
      ['prod-ro', { allow: { db_labels: { env: 'prod' }, db_users: ['ro', 'postgres'], db_names: ['orders'] } }],
      ['no-secret', { deny: { db_labels: { secret: 'yes' }, db_users: ['postgres'] } }],
    ),
    { db_users: ['alice', '-bad'] },
  );
  const listed = databasesVisibleTo(set, [
    pg('dev1', { env: 'dev' }),
    pg('prod1', { env: 'prod' }),
    pg('prod-secret', { env: 'prod', secret: 'yes' }),
    pg('other', { env: 'stage' }),
  ] as never);
  assert.deepEqual(
    listed.map((d) => [d.name, d.allowedDbUsers, d.allowedDbNames]),
    [
      ['dev1', ['alice', 'ro'], ['*']],
      ['prod1', ['ro'], ['orders']],
    ],
  );
  assert.equal(listed[0]?.protocol, 'postgres');
  assert.equal(listed[0]?.uri, 'dev1.internal:5432');
  const denyAll = new RoleSet(
    roles(['a', { allow: { db_labels: { '*': '*' }, db_users: ['*'] }, deny: { db_users: ['*'] } }]),
    {},
  );
  assert.deepEqual(databasesVisibleTo(denyAll, [pg('x', {})] as never)[0]?.allowedDbUsers, []);
  assert.deepEqual(databasesVisibleTo(new RoleSet([], {}), [pg('x', {})] as never), []);
});

test('a db service registration replaces what it registered before, labelled; others are left alone', async () => {
  const { catalog: c } = await catalog();
  await c.store.create(asStored(pg('admin-db', {})));
  const doc = (name: string, extra: Record<string, string> = {}) =>
    JSON.stringify(pg(name, { team: 'a', [DB_SERVICE_LABEL]: 'spoofed', ...extra }));
  assert.deepEqual(await c.register('db-1', [doc('a'), doc('b')]), { written: 2, deleted: 0 });
  await c.register('db-2', [doc('c')]);
  const a = await c.store.get('a');
  assert.deepEqual(a.metadata.labels, { team: 'a', [DB_SERVICE_LABEL]: 'db-1', [DB_ORIGIN_LABEL]: 'config' });
  // Unchanged databases are not written again (no revision bump, no watch event).
  assert.deepEqual(await c.register('db-1', [doc('a'), doc('b')]), { written: 0, deleted: 0 });
  assert.equal((await c.store.get('a')).metadata.revision, a.metadata.revision);
  assert.deepEqual(await c.register('db-1', [doc('a', { team: 'b' })]), { written: 1, deleted: 1 });
  assert.deepEqual(
    (await c.list()).map((d) => d.metadata.name),
    ['a', 'admin-db', 'c'],
  );
  assert.deepEqual(await c.register('db-1', []), { written: 0, deleted: 1 });
  assert.equal(await c.exists('c'), true);
  assert.equal(await c.exists('a'), false);
});

test('registrations that would take over, repeat, exceed or break databases are refused whole', async () => {
  const { catalog: c } = await catalog();
  await c.store.create(asStored(pg('admin-db', {})));
  await c.register('db-2', [JSON.stringify(pg('theirs', {}))]);
  const mine = JSON.stringify(pg('mine', {}));
  const refused = async (docs: string[], code: string, message: RegExp) =>
    assert.rejects(c.register('db-1', docs), (e: unknown) => {
      assert.ok(e instanceof GatehouseError);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });
  await refused(
    [mine, JSON.stringify(pg('admin-db', {}))],
    ErrorCode.ALREADY_EXISTS,
    /"admin-db" already exists \(created by an admin\)/,
  );
  await refused([JSON.stringify(pg('theirs', {}))], ErrorCode.ALREADY_EXISTS, /registered by db service "db-2"/);
  await refused([mine, mine], ErrorCode.BAD_REQUEST, /"mine" is listed twice/);
  await refused(['{'], ErrorCode.BAD_REQUEST, /database 1: not valid JSON/);
  await refused(
    [mine, JSON.stringify({ ...pg('x', {}), spec: { protocol: 'oracle', uri: 'h:1' } })],
    ErrorCode.INVALID_RESOURCE,
    /database 2: db "x": spec.protocol: expected one of: postgres, mysql/,
  );
  await refused(Array(MAX_REGISTERED_DATABASES + 1).fill(mine), ErrorCode.REQUEST_TOO_LARGE, /at most 1000/);
  assert.equal(await c.exists('mine'), false);
});

test('1000 databases register in one call', async () => {
  const { catalog: c } = await catalog();
  const docs = Array.from({ length: MAX_REGISTERED_DATABASES }, (_, i) => JSON.stringify(pg(`db-${i}`, {})));
  assert.deepEqual(await c.register('big', docs), { written: 1000, deleted: 0 });
  assert.equal((await c.list()).length, 1000);
});

test('a database an admin creates while a registration is under way is not overwritten', async () => {
  const { catalog: c } = await catalog();
  const list = c.store.list.bind(c.store);
  c.store.list = async (options) => {
    const before = await list(options);
    await c.store.create(asStored(pg('late', { owner: 'admin' })));
    return before;
  };
  await assert.rejects(c.register('db-1', [JSON.stringify(pg('late', {}))]), { code: ErrorCode.ALREADY_EXISTS });
  assert.deepEqual((await c.store.get('late')).metadata.labels, { owner: 'admin' });
});
