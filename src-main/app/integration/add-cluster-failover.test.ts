// Issue 17 item 4 in the desktop app: Add cluster with "p1, p2" while p1 is down. Real parts: auth
// and two proxies as separate `gatehouse` processes (split topology), the first proxy killed with
// SIGKILL before the app sees the cluster; the app's main-process services driven through the IPC
// dispatcher as the renderer drives them. Proven: clusters.probe answers the CA read from the
// second proxy and names it; clusters.add pins that confirmed CA under the first address; login
// and a node listing go through the second proxy; with every proxy down, probe's error names each.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterProcess, freePort, type ClusterUser } from '../../../test-support/cluster-process.ts';
import type { ClusterProbe, ClusterSummary, IpcResult, ServerSummary, SessionInfo } from '../../ipc/contract.ts';
import { createIpcDispatcher, type IpcDispatcher } from '../../ipc/dispatcher.ts';
import { displayFingerprint } from '../clusters-service.ts';
import { composeServices, type AppServices } from '../compose.ts';

describe("the app's Add cluster with two proxies while the first is down (split topology)", () => {
  const cluster = new ClusterProcess({ topology: 'split' });
  const home = mkdtempSync(join(tmpdir(), 'gh-add-failover-'));
  let user: ClusterUser;
  let services: AppServices;
  let ipc: IpcDispatcher;
  let proxy1 = '';
  let proxy2 = '';

  async function call<T>(channel: string, input: unknown): Promise<T> {
    const r = (await ipc.invoke(channel, input)) as IpcResult<T>;
    if (!r.ok) throw Object.assign(new Error(`${channel}: ${r.error.code} ${r.error.message}`), r.error);
    return r.value;
  }

  before(async () => {
    await cluster.start();
    proxy1 = cluster.proxyAddr;
    proxy2 = `127.0.0.1:${await freePort()}`;
    await cluster.startJoined('proxy2', { roles: 'proxy', proxyAddr: proxy2 });
    cluster.addRole('access');
    user = cluster.addUser('appfail', ['access']);
    await cluster.crashService('proxy');
    services = composeServices({ home, host: 'browser', localUser: user.login, timeoutMs: 10_000 });
    ipc = createIpcDispatcher(services);
  });
  after(async () => {
    await services?.close();
    await cluster.destroy();
    rmSync(home, { recursive: true, force: true });
  });

  test('probe reads the CA from the second proxy and says so; add pins it under the first address', async () => {
    const probe = await call<ClusterProbe>('clusters.probe', { proxy: `${proxy1}, ${proxy2}` });
    assert.equal(probe.proxy, proxy1);
    assert.deepEqual(probe.proxies, [proxy1, proxy2]);
    assert.equal(probe.caFingerprint, displayFingerprint(cluster.caPin));
    assert.equal(probe.caPresentedBy, proxy2);
    assert.equal(services.core.knownProxies.get(proxy1), undefined, 'probing pins nothing');
    const added = await call<ClusterSummary>('clusters.add', {
      proxy: probe.proxies.join(','),
      caFingerprint: probe.caFingerprint,
    });
    assert.equal(added.caFingerprint, cluster.caPin);
    assert.deepEqual(added.proxies, [proxy1, proxy2]);
    assert.equal(services.core.knownProxies.get(proxy1)?.fingerprint, cluster.caPin);
  });

  test('login and a node listing go through the second proxy', async () => {
    const session = await call<SessionInfo>('auth.login', { proxy: proxy1, user: user.name, password: user.password });
    assert.equal(session.user, user.name);
    const nodes = await call<ServerSummary[]>('resources.listServers', { proxy: proxy1 });
    assert.ok(
      nodes.some((n) => n.name === cluster.nodeName),
      JSON.stringify(nodes),
    );
  });

  test('with every proxy down, probe fails with PROXY_UNREACHABLE naming each proxy and why', async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const r = (await ipc.invoke('clusters.probe', { proxy: `${proxy1}, ${dead}` })) as IpcResult<ClusterProbe>;
    assert.equal(r.ok, false);
    if (r.ok) return;
    assert.equal(r.error.code, 'PROXY_UNREACHABLE');
    assert.ok(
      r.error.message.includes(
        `cannot reach any of the cluster's proxies: ${proxy1} (ECONNREFUSED), ${dead} (ECONNREFUSED)`,
      ),
      r.error.message,
    );
  });
});
