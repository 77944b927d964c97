import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerSummary } from '../../src-main/ipc/contract.ts';
import { filterServers, labelChips, sortServers } from './server-filter.ts';

const server = (name: string, labels: Record<string, string>): ServerSummary => ({
  name,
  address: `${name}:3022`,
  hostname: name,
  labels,
  logins: ['root'],
});
const all = [
  server('web-1', { env: 'prod', team: 'frontend' }),
  server('web-2', { env: 'staging', team: 'frontend' }),
  server('db-1', { env: 'prod', role: 'Postgres' }),
];
const names = (list: ServerSummary[]) => list.map((s) => s.name);

test('empty or blank query shows everything', () => {
  assert.deepEqual(names(filterServers(all, '')), ['web-1', 'web-2', 'db-1']);
  assert.deepEqual(names(filterServers(all, '   ')), ['web-1', 'web-2', 'db-1']);
});

test('part of a name, any case', () => {
  assert.deepEqual(names(filterServers(all, 'WEB')), ['web-1', 'web-2']);
  assert.deepEqual(names(filterServers(all, 'b-1')), ['web-1', 'db-1']);
});

test('key=value matches a label exactly', () => {
  assert.deepEqual(names(filterServers(all, 'env=prod')), ['web-1', 'db-1']);
  assert.deepEqual(names(filterServers(all, 'ENV=Prod')), ['web-1', 'db-1']);
  assert.deepEqual(names(filterServers(all, 'env=pro')), []);
  assert.deepEqual(names(filterServers(all, 'team=prod')), []);
});

test('a label value alone matches', () => {
  assert.deepEqual(names(filterServers(all, 'staging')), ['web-2']);
  assert.deepEqual(names(filterServers(all, 'postgres')), ['db-1']);
  // label keys alone are not searched (every server has "env")
  assert.deepEqual(names(filterServers(all, 'team')), []);
});

test('every word must match', () => {
  assert.deepEqual(names(filterServers(all, 'web env=prod')), ['web-1']);
  assert.deepEqual(names(filterServers(all, 'frontend  prod')), ['web-1']);
  assert.deepEqual(names(filterServers(all, 'db staging')), []);
});

test('sorting is by name, numbers in order', () => {
  const list = [server('n10', {}), server('n2', {}), server('a', {})];
  assert.deepEqual(names(sortServers(list)), ['a', 'n2', 'n10']);
  assert.deepEqual(names(list), ['n10', 'n2', 'a'], 'input untouched');
});

test('label chips read like the search syntax', () => {
  assert.deepEqual(labelChips({ team: 'x', env: 'prod' }), ['env=prod', 'team=x']);
});
