import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AppSummary } from '../../src-main/ipc/contract.ts';
import { filterApps } from './app-filter.ts';

const app = (name: string, over: Partial<AppSummary> = {}): AppSummary => ({
  name,
  kind: 'http',
  description: '',
  uri: 'http://127.0.0.1:3000',
  publicAddr: '',
  labels: {},
  ...over,
});

const grafana = app('grafana', { description: 'Dashboards', labels: { env: 'prod', team: 'ops' } });
const redis = app('redis-cache', { kind: 'tcp', uri: 'tcp://127.0.0.1:6379', labels: { env: 'dev' } });
const wiki = app('wiki', { publicAddr: 'wiki.example.com' });
const all = [grafana, redis, wiki];

test('words match name, description, public address, kind and label values; all words must match', () => {
  assert.deepEqual(filterApps(all, ''), all);
  assert.deepEqual(filterApps(all, 'GRAF'), [grafana]);
  assert.deepEqual(filterApps(all, 'dashboards'), [grafana]);
  assert.deepEqual(filterApps(all, 'example.com'), [wiki]);
  assert.deepEqual(filterApps(all, 'tcp'), [redis]);
  assert.deepEqual(filterApps(all, 'web'), [grafana, wiki]);
  assert.deepEqual(filterApps(all, 'ops'), [grafana]);
  assert.deepEqual(filterApps(all, 'web dev'), []);
});

test('key=value matches a label exactly, not a part of it', () => {
  assert.deepEqual(filterApps(all, 'env=prod'), [grafana]);
  assert.deepEqual(filterApps(all, 'env=pro'), []);
  assert.deepEqual(filterApps(all, 'Env=Dev'), [redis]);
});
