// Apps in the app against a real cluster with its app service and a real upstream web app: the
// resource browser lists web and TCP apps (kind filter, labels, search); Launch on the web app
// opens a gateway tab and a new browser tab whose page is the upstream's, through the gateway; the
// seed's role (apps only from a trusted device) with this untrusted session gets the 403 page in
// the new tab and the remedy in the gateway tab; a TCP app shows 127.0.0.1:PORT with Copy, and a
// client reaches the upstream there. The browser host stands in for the OS browser: Launch opens
// a tab of the same browser (under Electron it opens the OS browser, which a test cannot watch).
import { connect } from 'node:net';
import { ClusterProcess, type ClusterUser } from '../test-support/cluster-process.ts';
import { APP_UNTRUSTED_DEVICE_MESSAGE } from '../src-shared/app-pages.ts';
import { addClusterAndLogIn, expect, NODE_LABELS, test as base } from './fixtures.ts';
import { LaunchedAppPage } from './pages/launched-app-page.ts';
import {
  APP_ROLE,
  appServiceConfig,
  E2E_TCP_APP,
  E2E_WEB_APP,
  startE2eApps,
  TRUSTED_DEVICE_APPS_ROLE,
  UPSTREAM_PAGE_TEXT,
  UPSTREAM_PAGE_TITLE,
  type E2eUpstream,
} from './support/app-world.ts';

interface AppWorkerFixtures {
  cluster: ClusterProcess;
  upstream: E2eUpstream;
  /** May reach every app. */
  ava: ClusterUser;
  /** Holds only the seed's require-trusted-device-apps role; the test's app is not a trusted device. */
  vic: ClusterUser;
}

const test = base.extend<object, AppWorkerFixtures>({
  cluster: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const cluster = new ClusterProcess({
        clusterName: 'e2e',
        nodeName: 'web-1',
        nodeLabels: { ...NODE_LABELS },
        extraConfig: await appServiceConfig(),
      });
      try {
        await cluster.start();
        await use(cluster);
      } finally {
        await cluster.destroy();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],
  upstream: [
    async ({ cluster }, use) => {
      const upstream = await startE2eApps(cluster);
      try {
        await use(upstream);
      } finally {
        await upstream.stop();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],
  ava: [
    async ({ cluster, upstream: _upstream }, use) => {
      await use(cluster.addUser('ava', ['access', APP_ROLE]));
    },
    { scope: 'worker' },
  ],
  vic: [
    async ({ cluster, upstream: _upstream }, use) => {
      await use(cluster.addUser('vic', ['access', TRUSTED_DEVICE_APPS_ROLE]));
    },
    { scope: 'worker' },
  ],
});

const WEB = E2E_WEB_APP.name;
const TCP = E2E_TCP_APP.name;

/** One HTTP/1.0 request over a plain TCP connection (through the TCP app's gateway); the whole answer. */
function rawHttpGet(address: string): Promise<string> {
  const [host, port] = address.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(port) }, () => socket.write('GET / HTTP/1.0\r\nHost: e2e\r\n\r\n'));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.once('end', () => resolve(answer));
    socket.once('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no answer from ${address} within 10 s`)));
  });
}

test('the resource browser lists web and TCP apps; Launch opens the upstream page in a new tab through the gateway', async ({
  app,
  ui,
  cluster,
  ava,
  screens,
}) => {
  test.skip(app.mode === 'electron', 'under Electron Launch opens the OS browser, which a test cannot watch');
  await addClusterAndLogIn(ui, cluster, ava);
  await ui.resources.expectAppListed(WEB, 'Web (HTTP)');
  await ui.resources.expectAppListed(TCP, 'TCP');
  await expect(ui.resources.appRow(WEB)).toContainText(E2E_WEB_APP.description);
  await expect(ui.resources.appRow(WEB).getByRole('list', { name: `Labels of ${WEB}` })).toContainText('team=blue');

  await ui.resources.showKind('Apps');
  await expect(ui.resources.serversHeading).toHaveCount(0);
  await expect(ui.resources.databasesHeading).toHaveCount(0);
  await ui.servers.filter('team=blue web');
  await ui.resources.expectAppListed(WEB, 'Web (HTTP)');
  await expect(ui.resources.appRow(TCP)).toHaveCount(0);
  await screens.capture('apps-01-resources-apps');

  const launched = await LaunchedAppPage.opening(app.page.context(), () => ui.resources.launchButton(WEB).click());
  const url = await ui.gateways.expectWebAppOpen(WEB);
  expect(launched.page.url()).toBe(url);
  await expect(launched.page.getByText(UPSTREAM_PAGE_TEXT, { exact: true })).toBeVisible();
  await expect(launched.page).toHaveTitle(UPSTREAM_PAGE_TITLE);
  await screens.capture('apps-02-launched-tab', launched.page);

  // The gateway tab: listening, no refusal; Open in browser opens the same address again.
  await app.page.bringToFront();
  await expect(ui.gateways.status(WEB)).toHaveText(/^Listening, nothing connected$|connections? open$/);
  await expect(ui.gateways.refusal(WEB)).toHaveCount(0);
  await screens.capture('apps-03-gateway-tab');
  const again = await LaunchedAppPage.opening(app.page.context(), () =>
    ui.gateways.button(WEB, 'Open in browser').click(),
  );
  expect(again.page.url()).toBe(url);
  await expect(again.page.getByText(UPSTREAM_PAGE_TEXT, { exact: true })).toBeVisible();
  await again.close();
  await launched.close();

  await ui.gateways.button(WEB, 'Close gateway').click();
  await expect(ui.gateways.tab(WEB)).toHaveCount(0);
  await expect(ui.resources.heading).toBeVisible();
});

test('an app whose role requires a trusted device: the 403 page in the new tab and the remedy in the app', async ({
  app,
  ui,
  cluster,
  vic,
  screens,
}) => {
  test.skip(app.mode === 'electron', 'under Electron Launch opens the OS browser, which a test cannot watch');
  await addClusterAndLogIn(ui, cluster, vic);
  await ui.resources.expectAppListed(WEB, 'Web (HTTP)');

  const launched = await LaunchedAppPage.opening(app.page.context(), () => ui.resources.launchButton(WEB).click());
  await launched.expectRefused(APP_UNTRUSTED_DEVICE_MESSAGE, 'DEVICE_UNTRUSTED');
  await expect(launched.page.getByText(/Register and enroll this device/)).toBeVisible();
  const status = await launched.page.evaluate(
    () =>
      (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming & { responseStatus?: number })
        .responseStatus,
  );
  expect(status).toBe(403);
  await screens.capture('apps-04-launched-tab-device-denied', launched.page);
  await launched.close();

  await app.page.bringToFront();
  await expect(ui.gateways.refusal(WEB)).toHaveText('Last connection denied');
  const alert = ui.gateways.region(WEB).getByRole('alert');
  await expect(alert).toContainText('Access denied: Access to this app requires a trusted device.');
  await expect(alert).toContainText('Register and enroll this device');
  await expect(ui.gateways.region(WEB).getByText(/at .*stack|Error:/)).toHaveCount(0);
  await screens.capture('apps-05-gateway-device-denied');

  // The narrowest window the app allows (main-window.ts minWidth 640): still no sideways scrolling.
  await app.page.setViewportSize({ width: 640, height: 900 });
  await screens.capture('apps-06-gateway-device-denied-narrow');
  const overflow = await app.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test('a TCP app: Connect shows 127.0.0.1:PORT with Copy, and a client reaches the upstream there', async ({
  app,
  ui,
  cluster,
  ava,
  screens,
}) => {
  await addClusterAndLogIn(ui, cluster, ava);
  await ui.resources.showKind('Apps');
  await ui.resources.connectAppButton(TCP).click();
  const port = await ui.gateways.expectOpen(TCP);
  const address = `127.0.0.1:${port}`;
  await expect(ui.gateways.region(TCP).getByRole('button', { name: 'Open in browser' })).toHaveCount(0);

  await app.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await ui.gateways.button(TCP, 'Copy address').click();
  await expect(ui.gateways.button(TCP, 'Copied')).toBeVisible();
  expect(await app.page.evaluate(() => navigator.clipboard.readText())).toBe(address);

  const answer = await rawHttpGet(address);
  expect(answer).toMatch(/^HTTP\/1\.[01] 200 /);
  expect(answer).toContain(UPSTREAM_PAGE_TEXT);
  await screens.capture('apps-07-tcp-gateway-tab');

  await app.page.setViewportSize({ width: 640, height: 900 });
  await ui.topBar.servers.click();
  await screens.capture('apps-08-resources-apps-narrow');
  const overflow = await app.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
