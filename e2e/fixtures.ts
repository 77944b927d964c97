// The one e2e fixture. Per worker: a real demo cluster (`gatehouse start`, node labelled for the
// search tests) with its users, and — when the browser host is used — Debian's Chromium.
// Per test: the app with a fresh app data dir (Electron when its binary is installed, else the
// browser host), page objects for every screen, and screenshots into the report.
// A failing test gets the main side's logs, the renderer console, the cluster's log lines from
// the test, a screenshot and (browser host) a Playwright trace attached.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test as base, type Browser, type Page } from '@playwright/test';
import { AddClusterPage } from './pages/add-cluster-page.ts';
import { DbConnectDialog } from './pages/db-connect-dialog.ts';
import { GatewayPage } from './pages/gateway-page.ts';
import { LoginPage } from './pages/login-page.ts';
import { ResourcesPage } from './pages/resources-page.ts';
import { ServersPage } from './pages/servers-page.ts';
import { TerminalPage } from './pages/terminal-page.ts';
import { TopBar } from './pages/top-bar.ts';
import {
  appMode,
  launchBrowserHostApp,
  launchChromium,
  launchElectronApp,
  type LaunchedApp,
} from './support/app-launcher.ts';
import { ClusterProcess, ROOT, type ClusterUser } from '../test-support/cluster-process.ts';

/** Session limit of the `short-session` role: long enough to log in and look, short enough to wait out. */
export const SHORT_SESSION_SECONDS = 15;

export const NODE_LABELS = { env: 'e2e', team: 'blue' } as const;

export interface Users {
  /** Role `access`: every node, the test runner's OS user as login. */
  alice: ClusterUser;
  /** Role `short-session` (max_session_ttl SHORT_SESSION_SECONDS). */
  sam: ClusterUser;
}

export interface Ui {
  addCluster: AddClusterPage;
  login: LoginPage;
  servers: ServersPage;
  resources: ResourcesPage;
  dbConnect: DbConnectDialog;
  gateways: GatewayPage;
  terminals: TerminalPage;
  topBar: TopBar;
}

export interface Screens {
  /** Screenshot into the report and test-results/screens/<name>.png (of the app, or of `of`, e.g. a launched tab). */
  capture(name: string, of?: Page): Promise<void>;
}

interface WorkerFixtures {
  cluster: ClusterProcess;
  users: Users;
  hostBrowser: Browser | undefined;
}

interface TestFixtures {
  /** Extra environment for the app's main side (a spec overrides it, e.g. with its swtpm's TCTI). */
  appEnv: Record<string, string>;
  app: LaunchedApp;
  page: Page;
  ui: Ui;
  screens: Screens;
}

export const test = base.extend<TestFixtures, WorkerFixtures>({
  cluster: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const cluster = new ClusterProcess({ clusterName: 'e2e', nodeName: 'web-1', nodeLabels: { ...NODE_LABELS } });
      try {
        await cluster.start();
        await use(cluster);
      } finally {
        await cluster.destroy();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  users: [
    async ({ cluster }, use) => {
      cluster.addRole('short-session', `${SHORT_SESSION_SECONDS}s`);
      await use({ alice: cluster.addUser('alice', ['access']), sam: cluster.addUser('sam', ['short-session']) });
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  hostBrowser: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      if (appMode() === 'electron') {
        await use(undefined);
        return;
      }
      const browser = await launchChromium();
      await use(browser);
      await browser.close();
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
  appEnv: async ({}, use) => {
    await use({});
  },

  app: async ({ hostBrowser, cluster, appEnv }, use, testInfo) => {
    const home = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-app-'));
    const clusterLogStart = cluster.logs.length;
    const app = hostBrowser
      ? await launchBrowserHostApp(home, hostBrowser, appEnv)
      : await launchElectronApp(home, appEnv);
    try {
      await use(app);
    } finally {
      if (testInfo.status !== testInfo.expectedStatus) {
        const shot = await app.page.screenshot().catch(() => undefined);
        if (shot) await testInfo.attach('screen at failure', { body: shot, contentType: 'image/png' });
        await testInfo.attach(app.mode === 'electron' ? 'electron-main.log' : 'browser-host.log', {
          body: app.mainLogs(),
          contentType: 'text/plain',
        });
        await testInfo.attach('renderer-console.log', { body: app.rendererLogs(), contentType: 'text/plain' });
        await testInfo.attach('cluster.log', { body: cluster.logs.slice(clusterLogStart), contentType: 'text/plain' });
        const tracePath = testInfo.outputPath('trace.zip');
        if (await app.saveTrace(tracePath).catch(() => false)) {
          await testInfo.attach('trace', { path: tracePath, contentType: 'application/zip' });
        }
      }
      await app.close();
      rmSync(home, { recursive: true, force: true });
    }
  },

  page: async ({ app }, use) => {
    await use(app.page);
  },

  ui: async ({ page }, use) => {
    await use({
      addCluster: new AddClusterPage(page),
      login: new LoginPage(page),
      servers: new ServersPage(page),
      resources: new ResourcesPage(page),
      dbConnect: new DbConnectDialog(page),
      gateways: new GatewayPage(page),
      terminals: new TerminalPage(page),
      topBar: new TopBar(page),
    });
  },

  screens: async ({ page }, use, testInfo) => {
    const dir = join(ROOT, 'test-results', 'screens');
    mkdirSync(dir, { recursive: true });
    await use({
      async capture(name, of) {
        const path = join(dir, `${name}.png`);
        await (of ?? page).screenshot({ path });
        await testInfo.attach(name, { path, contentType: 'image/png' });
      },
    });
  },
});

export { expect };

/** Adds the cluster by its proxy address and logs in; ends on the Servers screen. */
export async function addClusterAndLogIn(ui: Ui, cluster: ClusterProcess, user: ClusterUser): Promise<void> {
  await ui.addCluster.expectShown();
  await ui.addCluster.add(cluster.proxyAddr, cluster.caPin);
  await ui.login.expectShown(cluster.clusterName);
  await ui.login.logIn(user.name, user.password);
  await ui.servers.expectShown();
}

/** Opens a terminal on the cluster's node as the user's login; returns the tab title. */
export async function openTerminal(ui: Ui, cluster: ClusterProcess, user: ClusterUser): Promise<string> {
  await ui.servers.expectListed(cluster.nodeName);
  await ui.servers.connect(cluster.nodeName, user.login);
  const title = `${user.login}@${cluster.nodeName}`;
  await ui.terminals.expectConnected(title);
  return title;
}
