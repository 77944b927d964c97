import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppClusterStore } from '../app/app-clusters.ts';
import { KnownProxies } from '../core/known-proxies.ts';
import type { ClusterSummary } from '../ipc/contract.ts';
import { launchEarlyAnswers, newClusterRow } from './early-answers.ts';

const PIN = 'SHA256:' + 'ab'.repeat(32);
const OTHER_PIN = 'SHA256:' + 'cd'.repeat(32);

let home: string;
beforeEach(() => (home = mkdtempSync(join(tmpdir(), 'gatehouse-early-'))));
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** A cluster as clusters.add leaves it: the app's entry and the core's CA pin. */
function storeCluster(proxy: string, pin: string, clusterName = 'prod') {
  new AppClusterStore(home).upsert({ proxy, clusterName, secondFactor: 'otp', addedAt: '2026-12-07T00:00:00.000Z' });
  new KnownProxies(home).set(proxy, { fingerprint: pin, caPem: 'unused here', source: 'ca-pin', pinnedAt: 'now' });
}

describe('what the browser host answers before its services are composed', () => {
  test('clusters.list comes from the stored entries and pins, as the clusters service lists them', async () => {
    storeCluster('127.0.0.1:3080', PIN);
    storeCluster('127.0.0.1:4080', OTHER_PIN, 'staging');
    let listed = 0;
    const early = launchEarlyAnswers({ home, onListed: () => listed++ });
    assert.deepEqual(await early.answer('clusters.list', {}), [
      { proxy: '127.0.0.1:3080', clusterName: 'prod', secondFactor: 'otp', caFingerprint: PIN, current: true },
      {
        proxy: '127.0.0.1:4080',
        clusterName: 'staging',
        secondFactor: 'otp',
        caFingerprint: OTHER_PIN,
        current: false,
      },
    ]);
    assert.equal(listed, 1, 'the launcher hears that the first screen was listed');
  });

  test('a cluster with a session is left to the services (its session info needs the core)', async () => {
    storeCluster('127.0.0.1:3080', PIN);
    new AppClusterStore(home).setUser('127.0.0.1:3080', 'alice');
    let listed = 0;
    const early = launchEarlyAnswers({ home, onListed: () => listed++ });
    assert.equal(await early.answer('clusters.list', {}), undefined);
    assert.equal(listed, 0);
  });

  test('gateways.list is empty and app.info names the browser host; anything else waits', async () => {
    const early = launchEarlyAnswers({ home });
    assert.deepEqual(await early.answer('gateways.list', {}), []);
    const info = (await early.answer('app.info', {})) as { host: string; version: string };
    assert.equal(info.host, 'browser');
    assert.match(info.version, /^\d+\.\d+\.\d+/);
    assert.equal(await early.answer('auth.login', { proxy: '127.0.0.1:3080', user: 'a', password: 'b' }), undefined);
    assert.equal(await early.answer('device.status', {}), undefined);
  });

  test('a new cluster is listed at once as a connecting placeholder, current in an empty home', async () => {
    const row = newClusterRow(home, 'LOCALHOST:3080', PIN.toUpperCase().replace('SHA256', 'sha256'));
    assert.ok(row, 'the cluster is new to this home');
    const early = launchEarlyAnswers({ home, addRow: row });
    const [only, ...rest] = (await early.answer('clusters.list', {})) as ClusterSummary[];
    assert.deepEqual(rest, []);
    assert.deepEqual(only, {
      proxy: 'localhost:3080',
      clusterName: 'localhost:3080',
      secondFactor: 'off',
      caFingerprint: PIN,
      current: true,
      adding: 'connecting',
    });
  });

  test('a cluster stored with this pin is not new; with another pin it is (the add re-pins it)', () => {
    storeCluster('127.0.0.1:3080', PIN);
    assert.equal(newClusterRow(home, '127.0.0.1:3080', PIN), undefined);
    assert.equal(newClusterRow(home, '127.0.0.1:3080'), undefined, 'no pin given: any pinned CA will do');
    assert.equal(newClusterRow(home, '127.0.0.1:3080', OTHER_PIN)?.proxy, '127.0.0.1:3080');
    assert.equal(newClusterRow(home, '127.0.0.1:3080', 'SHA256:nothex'), undefined, 'the add reports a bad pin');
  });
});
