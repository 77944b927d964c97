// The local enrollment records: private file, lookup by cluster (same proxy first), replace on
// re-enrollment, a damaged file is a coded error naming it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { EnrollmentStore, type EnrollmentRecord } from './enrollments.ts';

const rec = (over: Partial<EnrollmentRecord> = {}): EnrollmentRecord => ({
  cluster: 'prod',
  proxy: 'proxy.example.com:3080',
  deviceId: 'dev-1',
  assetTag: 'SN1',
  osType: 'linux',
  credentialId: 'a'.repeat(64),
  attestationType: 'ekcert',
  enrolledAt: '2026-11-26T06:00:00.000Z',
  ...over,
});

test('records are stored 0600 as enrollments.json in the device store, found by cluster, replaced per (cluster, proxy)', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'gh-enroll-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const store = new EnrollmentStore(home);
  assert.equal(store.find('prod', 'proxy.example.com:3080'), undefined);
  store.save(rec());
  store.save(rec({ cluster: 'staging', proxy: 'st:3080', deviceId: 'dev-2' }));
  assert.equal(store.path, join(home, 'enrollments.json'));
  assert.equal(statSync(store.path).mode & 0o777, 0o600);
  assert.equal(store.find('prod', 'proxy.example.com:3080')?.deviceId, 'dev-1');
  assert.equal(store.find('prod', '10.0.0.1:3080')?.deviceId, 'dev-1', 'another address of the same cluster');
  assert.equal(store.find('other', 'proxy.example.com:3080'), undefined, 'the cluster name must match');

  store.save(rec({ deviceId: 'dev-3', credentialId: 'b'.repeat(64) }));
  assert.equal(store.list().length, 2);
  assert.equal(store.find('prod', 'proxy.example.com:3080')?.deviceId, 'dev-3');

  store.save(rec({ proxy: '10.0.0.1:3080', deviceId: 'dev-4' }));
  assert.equal(store.find('prod', '10.0.0.1:3080')?.deviceId, 'dev-4', 'the exact proxy wins');
  assert.equal(store.remove('prod'), true);
  assert.deepEqual(
    store.list().map((e) => e.cluster),
    ['staging'],
  );
  assert.equal(store.remove('prod'), false);
});

test('a damaged file is a STORAGE error that says what to do', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'gh-enroll-'));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const store = new EnrollmentStore(home);
  store.save(rec());
  writeFileSync(store.path, JSON.stringify({ version: 1, enrollments: [{ cluster: 'x' }] }));
  assert.throws(
    () => store.find('prod', 'p:1'),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.STORAGE && /gate device enroll/.test(e.message),
  );
});
