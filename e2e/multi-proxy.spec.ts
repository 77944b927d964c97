// A cluster with several proxies, added the way a person does it: the proxy addresses separated
// by commas in "Proxy address". A list with bad addresses names each one; a good list is probed
// (the CA fingerprint comes from the first proxy), the confirmation lists every proxy, and the
// login screen shows them in failover order. The second address here is a port nothing listens
// on, as a proxy that is down while the cluster is added.
import { freePort } from '../test-support/cluster-process.ts';
import { expect, test } from './fixtures.ts';
import { appFingerprint } from './pages/add-cluster-page.ts';

/** The address of a proxy that is down: a loopback port claimed for this test that nothing listens on. */
async function downProxyAddress(): Promise<string> {
  return `127.0.0.1:${await freePort()}`;
}

test('several proxy addresses: each bad one named, then all of them shown and kept', async ({
  ui,
  cluster,
  users,
  screens,
}) => {
  const down = await downProxyAddress();
  await ui.addCluster.expectShown();
  await ui.addCluster.next(`${cluster.proxyAddr}, ${down.replace(/\d+$/, '99999')}, https://x/path`);
  await expect(ui.addCluster.error).toContainText('The port must be a number from 1 to 65535.');
  await expect(ui.addCluster.error).toContainText('“https://x/path”: Enter only the host and port');
  await screens.capture('multi-proxy-01-bad-addresses');

  await ui.addCluster.next(`${cluster.proxyAddr}, ${down}`);
  // First contact (TLS, the chain, a ping) is slow only on a loaded machine: wait for it, not fail.
  await expect(ui.addCluster.confirmHeading(cluster.clusterName)).toBeVisible({ timeout: 60_000 });
  await expect(ui.addCluster.fingerprint).toHaveText(appFingerprint(cluster.caPin));
  await expect(ui.addCluster.page.getByTestId('probe-proxies')).toContainText(`Proxies ${cluster.proxyAddr}, ${down}`);
  await screens.capture('multi-proxy-02-confirm');
  await ui.addCluster.trustButton.click();

  await ui.login.expectShown(cluster.clusterName);
  await expect(ui.login.page.getByTestId('cluster-proxies')).toHaveText(`Proxies ${cluster.proxyAddr}, ${down}`);
  await screens.capture('multi-proxy-03-log-in');
  await ui.login.logIn(users.alice.name, users.alice.password);
  await ui.servers.expectShown();
  await ui.servers.expectListed(cluster.nodeName);
});

test('first proxy down: the CA comes from the next, and the screen says so', async ({
  ui,
  cluster,
  users,
  screens,
}) => {
  const down = await downProxyAddress();
  await ui.addCluster.next(`${down}, ${cluster.proxyAddr}`);
  await expect(ui.addCluster.confirmHeading(cluster.clusterName)).toBeVisible({ timeout: 60_000 });
  await expect(ui.addCluster.fingerprint).toHaveText(appFingerprint(cluster.caPin));
  await expect(ui.addCluster.page.getByTestId('ca-presented-by')).toHaveText(cluster.proxyAddr);
  await expect(ui.addCluster.page.getByTestId('first-proxy-silent')).toContainText(`${down} did not answer.`);
  await expect(ui.addCluster.page.getByText(`${cluster.proxyAddr} is the cluster`)).toBeVisible();
  await screens.capture('multi-proxy-04-first-proxy-down');
  await ui.addCluster.trustButton.click();

  await ui.login.expectShown(cluster.clusterName);
  await ui.login.logIn(users.alice.name, users.alice.password);
  await ui.servers.expectShown();
  await ui.servers.expectListed(cluster.nodeName);
});
