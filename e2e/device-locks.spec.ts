// Locks as the person at the app sees them (docs/device-trust-app.md): a lock on the user or on
// this device cuts an open terminal and the tab says "Locked by your administrator: <message>"
// within a second, with no Reconnect while the lock stands; a locked user's login is refused
// with the lock's message. Locks are made the administrator's way, `gatectl lock`.
import { addClusterAndLogIn, expect, openTerminal } from './fixtures.ts';
import { DeviceTrustPage } from './pages/device-trust-page.ts';
import { test } from './support/device-world.ts';

/** How long after `gatectl lock` returns the open tab must show it (the promise). */
const LOCK_SHOWN_WITHIN_MS = 1_000;

test('a user lock cuts the open terminal: the tab shows the message within 1 s, no Reconnect', async ({
  ui,
  cluster,
  users,
  deviceWorld,
  screens,
}, testInfo) => {
  await deviceWorld.setup({ mode: 'off' });
  await addClusterAndLogIn(ui, cluster, users.alice);
  const title = await openTerminal(ui, cluster, users.alice);

  const message = 'Security review in progress, call the helpdesk';
  deviceWorld.lockUser(message);
  const lockedAt = Date.now();
  const alert = ui.terminals.lockAlert(title);
  await expect(alert).toBeVisible({ timeout: 5_000 });
  const shownAfterMs = Date.now() - lockedAt;
  testInfo.annotations.push({ type: 'lock shown after (ms)', description: String(shownAfterMs) });
  expect(shownAfterMs, 'the lock reached the tab within 1 s of gatectl lock returning').toBeLessThan(
    LOCK_SHOWN_WITHIN_MS,
  );
  await expect(alert).toContainText(`Locked by your administrator: ${message}`);
  await expect(alert).toContainText(users.alice.name);
  await expect(ui.terminals.reconnectButton(title)).toHaveCount(0);
  await screens.capture('device-lock-user-terminal');
});

test('a device lock cuts a trusted terminal on this machine', async ({
  ui,
  page,
  cluster,
  users,
  deviceWorld,
  screens,
}, testInfo) => {
  test.setTimeout(120_000);
  await deviceWorld.setup({ mode: 'required', registered: true, enrolled: true });
  await addClusterAndLogIn(ui, cluster, users.alice);
  await new DeviceTrustPage(page).expectIndicator('trusted');
  const title = await openTerminal(ui, cluster, users.alice);

  const message = 'Laptop reported stolen';
  deviceWorld.lockDevice(message);
  const lockedAt = Date.now();
  const alert = ui.terminals.lockAlert(title);
  await expect(alert).toBeVisible({ timeout: 5_000 });
  const shownAfterMs = Date.now() - lockedAt;
  testInfo.annotations.push({ type: 'lock shown after (ms)', description: String(shownAfterMs) });
  expect(shownAfterMs).toBeLessThan(LOCK_SHOWN_WITHIN_MS);
  await expect(alert).toContainText(`Locked by your administrator: ${message}`);
  await expect(alert).toContainText(deviceWorld.deviceId);
  await expect(ui.terminals.reconnectButton(title)).toHaveCount(0);
  // The indicator stops saying "Trusted" at once: the device is locked.
  await new DeviceTrustPage(page).expectIndicator('locked');
  await screens.capture('device-lock-device-terminal');
});

test('a locked user cannot log in: the login form shows the lock message', async ({
  ui,
  cluster,
  users,
  deviceWorld,
  screens,
}) => {
  await deviceWorld.setup({ mode: 'off' });
  const message = 'Account suspended pending HR review';
  deviceWorld.lockUser(message);
  await ui.addCluster.expectShown();
  await ui.addCluster.add(cluster.proxyAddr, cluster.caPin);
  await ui.login.expectShown(cluster.clusterName);
  await ui.login.expectLockedOut(users.alice.name, users.alice.password, message);
  await screens.capture('device-lock-login');

  // Lifted: the same form logs in.
  deviceWorld.unlockAll();
  await ui.login.logIn(users.alice.name, users.alice.password);
  await ui.servers.expectShown();
});
