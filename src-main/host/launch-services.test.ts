import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { ClusterSummary } from '../ipc/contract.ts';
import { startLaunchClusterAdd, type LaunchClusters } from './launch-services.ts';

const PIN = 'SHA256:' + 'ab'.repeat(32);
const OTHER_PIN = 'SHA256:' + 'cd'.repeat(32);

function summary(proxy: string, caFingerprint: string): ClusterSummary {
  return { proxy, clusterName: 'prod', secondFactor: 'off', caFingerprint, current: true };
}

/** Clusters whose add() finishes only when the test says so. */
function clustersWith(stored: ClusterSummary[]) {
  let finish!: (s: ClusterSummary) => void;
  let fail!: (e: unknown) => void;
  const adds: Array<{ proxy: string; trust: unknown }> = [];
  const clusters: LaunchClusters = {
    list: () => stored,
    add: (proxy, trust) => {
      adds.push({ proxy, trust });
      return new Promise((res, rej) => {
        finish = res;
        fail = rej;
      });
    },
  };
  return { clusters, adds, finish: (s: ClusterSummary) => finish(s), fail: (e: unknown) => fail(e) };
}

async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await new Promise((r) => setImmediate(r));
  return settled;
}

describe('the launcher adds its cluster without holding up the window', () => {
  test('a cluster already added with this pin is listed at once; the add refreshes it later, behind', async () => {
    const c = clustersWith([summary('127.0.0.1:3080', PIN)]);
    let refresh: (() => void) | undefined;
    const launch = startLaunchClusterAdd(
      c.clusters,
      '127.0.0.1:3080',
      PIN.toUpperCase().replace('SHA256', 'sha256'),
      (fn) => (refresh = fn),
    );
    assert.equal(launch.known, true);
    assert.equal(await isSettled(launch.beforeList), true, 'the list does not wait for the network');
    assert.equal(c.adds.length, 0, 'the refresh does not compete with the first paint');
    refresh!();
    assert.equal(await isSettled(launch.done), false);
    assert.deepEqual(c.adds, [
      { proxy: '127.0.0.1:3080', trust: { caPin: PIN.toUpperCase().replace('SHA256', 'sha256') } },
    ]);
    c.fail(new GatehouseError(ErrorCode.PROXY_UNREACHABLE, 'the proxy is down'));
    await assert.rejects(launch.done, /the proxy is down/);
  });

  test('a new cluster is listed only once added, so the first screen is its login', async () => {
    const c = clustersWith([]);
    const launch = startLaunchClusterAdd(c.clusters, '127.0.0.1:3080', PIN);
    assert.equal(launch.known, false);
    assert.equal(await isSettled(launch.beforeList), false);
    c.finish(summary('127.0.0.1:3080', PIN));
    await launch.beforeList;
    assert.equal((await launch.done).proxy, '127.0.0.1:3080');
  });

  test('the same proxy pinned to another CA waits for the re-pin (and its failure fails the list)', async () => {
    const c = clustersWith([summary('127.0.0.1:3080', OTHER_PIN)]);
    const launch = startLaunchClusterAdd(c.clusters, '127.0.0.1:3080', PIN);
    assert.equal(launch.known, false);
    c.fail(new GatehouseError(ErrorCode.PROXY_UNTRUSTED, 'does not present the CA'));
    await assert.rejects(launch.beforeList, /does not present the CA/);
  });

  test('without a pin, an added cluster is known whatever its CA; the address is compared canonically', async () => {
    const c = clustersWith([summary('localhost:3080', OTHER_PIN)]);
    const launch = startLaunchClusterAdd(c.clusters, 'localhost:3080', undefined, (fn) => fn());
    assert.equal(launch.known, true);
    assert.deepEqual(c.adds[0]?.trust, {});
    c.finish(summary('localhost:3080', OTHER_PIN));
    await launch.done;
  });

  test('a malformed pin is refused before anything is contacted', () => {
    const c = clustersWith([]);
    assert.throws(() => startLaunchClusterAdd(c.clusters, '127.0.0.1:3080', 'SHA256:nothex'), /is not a CA pin/);
    assert.equal(c.adds.length, 0);
  });
});
