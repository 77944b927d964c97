import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DatabaseSummary } from '../../src-main/ipc/contract.ts';
import { dbChoice, filterDatabases, sortByName } from './database-filter.ts';

const db = (name: string, over: Partial<DatabaseSummary> = {}): DatabaseSummary => ({
  name,
  protocol: 'postgres',
  description: '',
  uri: 'db:5432',
  labels: {},
  allowedDbUsers: ['alice'],
  allowedDbNames: ['*'],
  ...over,
});

test('search: name, description, protocol words, label values and key=value; every word must match', () => {
  const all = [
    db('orders', { labels: { env: 'prod' }, description: 'Orders DB' }),
    db('billing', { protocol: 'mysql', labels: { env: 'dev' } }),
  ];
  const names = (q: string) => filterDatabases(all, q).map((d) => d.name);
  assert.deepEqual(names(''), ['orders', 'billing']);
  assert.deepEqual(names('ORD'), ['orders']);
  assert.deepEqual(names('orders db'), ['orders'], 'description words');
  assert.deepEqual(names('mariadb'), ['billing'], 'mysql is found as mariadb too');
  assert.deepEqual(names('postgresql'), ['orders']);
  assert.deepEqual(names('env=dev'), ['billing']);
  assert.deepEqual(names('env=pro'), [], 'key=value is exact');
  assert.deepEqual(names('prod orders'), ['orders']);
  assert.deepEqual(names('prod billing'), []);
});

test('sortByName orders numerically', () => {
  assert.deepEqual(
    sortByName([db('db10'), db('db2'), db('a')]).map((d) => d.name),
    ['a', 'db2', 'db10'],
  );
});

test('dbChoice: a list to pick from, free text when "*" (named ones suggested), nothing when none', () => {
  assert.deepEqual(dbChoice(['alice', 'bob', 'alice']), { kind: 'pick', options: ['alice', 'bob'] });
  assert.deepEqual(dbChoice(['*', 'alice']), { kind: 'type', suggestions: ['alice'] });
  assert.deepEqual(dbChoice(['*']), { kind: 'type', suggestions: [] });
  assert.deepEqual(dbChoice([]), { kind: 'none' });
});
