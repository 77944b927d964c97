// The browser host's launch shell (issue 16, launch): with a cluster already added, the page's
// HTML carries the login form, so a person can type before the app's script ran; when React
// draws its own form it keeps what was typed and where the caret was, and the login goes on from
// there. The entry script is held back by a route until the test has typed, so the order is
// certain, not a race. Screenshots of both moments go to test-results/screens/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from './fixtures.ts';
import { LoginPage } from './pages/login-page.ts';
import { ServersPage } from './pages/servers-page.ts';
import { VIEWPORT, appMode, startHost, stopProcess } from './support/app-launcher.ts';
import { ROOT } from '../test-support/cluster-process.ts';

test.skip(
  appMode() === 'electron',
  'the launch shell is sent by the browser host; Electron shows its window once React painted',
);

test('typing into the launch shell before the app script runs carries over into the login', async ({
  hostBrowser,
  cluster,
  users,
}) => {
  const { alice } = users;
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-e2e-shell-'));
  const hostArgs = ['--add-cluster', cluster.proxyAddr, '--ca-pin', cluster.caPin];
  const log = { text: '' };
  // A relaunch: the cluster is in the app's home already (the shell shows the stored entry).
  const added = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src-main/host/main.ts'), '--home', home, ...hostArgs, '--add-only'],
    { cwd: ROOT, encoding: 'utf8' },
  );
  expect(added.status, added.stderr).toBe(0);
  const { child, url } = await startHost(home, log, {}, hostArgs);
  const context = await hostBrowser!.newContext({ viewport: VIEWPORT });
  const screens = join(ROOT, 'test-results', 'screens');
  mkdirSync(screens, { recursive: true });
  try {
    const page = await context.newPage();
    const cspErrors: string[] = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) cspErrors.push(m.text());
    });
    let releaseScript!: () => void;
    const scriptReleased = new Promise<void>((r) => (releaseScript = r));
    await page.route(/\/assets\/index-[^/]+\.js$/, async (route) => {
      await scriptReleased;
      await route.continue();
    });
    const login = new LoginPage(page);
    // Module scripts hold DOMContentLoaded back: wait for the commit only.
    await page.goto(url, { waitUntil: 'commit' });
    await expect(login.heading(cluster.clusterName)).toBeVisible();
    await expect(login.userName).toBeFocused();
    await expect(page.getByRole('button', { name: 'Log in', exact: true })).toBeDisabled();
    await expect(page.locator('#launch-shell')).toHaveCount(1);
    await page.screenshot({ path: join(screens, 'launch-shell-before-react.png') });

    const half = Math.floor(alice.password.length / 2);
    await page.keyboard.type(alice.name);
    await page.keyboard.press('Tab');
    await page.keyboard.type(alice.password.slice(0, half));
    // Enter in the shell submits nothing (its default button is disabled): the page stays.
    await page.keyboard.press('Enter');
    expect(new URL(page.url()).search).toBe('');

    releaseScript();
    await expect(page.locator('#launch-shell')).toHaveCount(0);
    await expect(login.userName).toHaveValue(alice.name);
    await expect(login.password).toHaveValue(alice.password.slice(0, half));
    await expect(login.password).toBeFocused();
    await expect(login.logInButton).toBeEnabled();
    await page.screenshot({ path: join(screens, 'launch-shell-after-react.png') });

    // The caret stayed at the end of what was typed: the rest of the password follows it.
    await page.keyboard.type(alice.password.slice(half));
    await page.keyboard.press('Enter');
    await new ServersPage(page).expectShown();
    expect(cspErrors).toEqual([]);
  } finally {
    await context.close();
    await stopProcess(child);
    rmSync(home, { recursive: true, force: true });
  }
});
