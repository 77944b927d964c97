// The main path a person takes: connect to a cluster, log in, see the server, open a terminal and
// run a command; and the wrong-password path, which must leave no session behind.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect, openTerminal, test } from './fixtures.ts';
import { appFingerprint } from './pages/add-cluster-page.ts';

test('add cluster, log in, see the demo server, run a command in its terminal', async ({
  ui,
  cluster,
  users,
  screens,
}) => {
  const { alice } = users;
  await ui.addCluster.expectShown();
  await screens.capture('01-connect-to-a-cluster');

  await ui.addCluster.next(cluster.proxyAddr);
  // The person compares the CA fingerprint with the administrator's before trusting it.
  await expect(ui.addCluster.confirmHeading(cluster.clusterName)).toBeVisible();
  await expect(ui.addCluster.fingerprint).toHaveText(appFingerprint(cluster.caPin));
  await screens.capture('01b-confirm-ca-fingerprint');
  await ui.addCluster.trustButton.click();
  await ui.login.expectShown(cluster.clusterName);
  await expect(ui.login.oneTimeCode).toHaveCount(0); // second factor is off on this cluster
  await screens.capture('02-log-in');

  await ui.login.logIn(alice.name, alice.password);
  await ui.servers.expectShown();
  await ui.servers.expectListed(cluster.nodeName);
  await expect(ui.servers.row(cluster.nodeName)).toContainText('team=blue');
  await expect(ui.servers.loginPicker(cluster.nodeName)).toHaveValue(alice.login);
  await expect(ui.topBar.clusterSwitcher(cluster.clusterName)).toBeVisible();
  await expect(ui.topBar.userName(alice.name)).toBeVisible();
  await screens.capture('03-servers');

  const title = await openTerminal(ui, cluster, alice);
  await expect(ui.terminals.tab(title)).toHaveAttribute('aria-selected', 'true');
  // $RANDOM is expanded by the remote shell: the echoed command line still reads "hello-$RANDOM",
  // only the command's output has digits there.
  await ui.terminals.run(title, 'echo hello-$RANDOM');
  const [line] = await ui.terminals.waitForOutput(title, /hello-\d+/);
  expect(line).toMatch(/^hello-\d+$/);
  await screens.capture('04-terminal');

  await ui.topBar.openClusterMenu(cluster.clusterName);
  await expect(ui.topBar.menuItem('Log out')).toBeVisible();
  await expect(ui.topBar.menuItem('Add cluster')).toBeVisible();
  await screens.capture('05-cluster-menu');
});

test('a wrong password shows the error and leaves no session', async ({ ui, app, cluster, users, screens }) => {
  const { alice } = users;
  const logStart = cluster.logs.length;
  await ui.addCluster.add(cluster.proxyAddr);
  await ui.login.expectShown(cluster.clusterName);
  await ui.login.logIn(alice.name, `${alice.password}-wrong`);

  await expect(ui.login.error).toContainText('Wrong user name, password or one-time code.');
  await screens.capture('06-wrong-password');
  await expect(ui.login.heading(cluster.clusterName)).toBeVisible();
  await expect(ui.servers.heading).toHaveCount(0);
  await expect(ui.topBar.userName(alice.name)).toHaveCount(0);
  // The cluster refused it, and nothing that could act as a login was written to the app's home.
  await cluster.waitForLog(/login failed.*alice/, 10_000, logStart);
  const profiles = join(app.home, 'profiles');
  const found = existsSync(profiles) ? readdirSync(profiles, { recursive: true }).map(String) : [];
  expect(found.filter((f) => /profile\.json$|tls\.crt$|cert\.pub$/.test(f))).toEqual([]);
});
