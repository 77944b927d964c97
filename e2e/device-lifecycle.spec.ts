// The device-trust life cycle clicked through in the app's "This device" screen
// (docs/device-trust-app.md): enrolling with a helpdesk token or auto-enroll makes the session
// trusted without logging out; an unregistered machine shows the administrator's exact command; a
// machine without a TPM says why; bad tokens (expired, another device's) are worded; diagnostics
// hold the asset tag and no key material; `gate device enroll` in a terminal updates the app
// through the shared device store. Each state is one `deviceWorld.setup(...)` line.
import { addClusterAndLogIn, expect, openTerminal } from './fixtures.ts';
import { DeviceTrustPage } from './pages/device-trust-page.ts';
import { test } from './support/device-world.ts';
import { ROOT } from '../test-support/cluster-process.ts';

/** PEM blocks, OpenSSH keys and raw key words: none may reach the diagnostics. */
const KEY_MATERIAL = /-----BEGIN|PRIVATE KEY|ssh-(rsa|ed25519) AAAA|ecdsa-sha2-nistp\d+ AAAA/;

test('not enrolled: a token typed in the app enrolls and trusts this session, and the terminal opens under required', async ({
  ui,
  page,
  cluster,
  users,
  deviceWorld,
  thisDevice,
  screens,
}) => {
  test.setTimeout(150_000);
  await deviceWorld.setup({ mode: 'required', autoEnroll: false, registered: true, enrolled: false });
  const indicator = new DeviceTrustPage(page);
  await addClusterAndLogIn(ui, cluster, users.alice);
  await indicator.expectIndicator('not enrolled');

  await ui.topBar.openThisDeviceFromIndicator();
  await thisDevice.expectShown();
  for (const name of ['Device', 'TPM', `Cluster ${cluster.clusterName}`, 'This session']) {
    await expect(thisDevice.section(name)).toBeVisible();
  }
  await expect(thisDevice.field('asset-tag')).toContainText(deviceWorld.assetTag);
  await expect(thisDevice.field('os')).toContainText(/linux/i);
  await expect(thisDevice.value('registered')).toHaveText('Yes');
  await expect(thisDevice.value('enrolled')).toHaveText('No');
  // Auto-enroll is off in this cluster: only the token form.
  await expect(thisDevice.autoEnrollButton).toHaveCount(0);
  await screens.capture('device-not-enrolled');

  await thisDevice.enrollWithToken(deviceWorld.enrollToken());
  await thisDevice.expectEnrolled();
  // Trusted without logging out: the indicator turns and the session section says so.
  await indicator.expectIndicator('trusted');
  await expect(thisDevice.value('enrolled')).toHaveText('Yes');
  await expect(thisDevice.field('credential-id')).toContainText(/[0-9a-f]{64}/);
  await expect(thisDevice.field('attestation-type')).toContainText(/ek(cert|pub)/);
  await expect(thisDevice.value('session-trusted')).toHaveText('Yes');
  // The token never stays in the renderer once used.
  await expect(thisDevice.tokenBox).toHaveValue('');
  await expect(thisDevice.thisDeviceRow).toContainText(deviceWorld.assetTag);
  await screens.capture('device-enrolled-trusted');

  await ui.topBar.servers.click();
  const title = await openTerminal(ui, cluster, users.alice);
  await ui.terminals.run(title, 'echo device-$((40+2))');
  await ui.terminals.waitForOutput(title, /device-42/);
  await screens.capture('device-trusted-terminal');
});

test('auto-enroll: a registered machine enrolls itself with one button, no token', async ({
  ui,
  page,
  cluster,
  users,
  deviceWorld,
  thisDevice,
  screens,
}) => {
  test.setTimeout(120_000);
  await deviceWorld.setup({ mode: 'required', autoEnroll: true, registered: true });
  await addClusterAndLogIn(ui, cluster, users.alice);
  await ui.topBar.openThisDeviceFromMenu(cluster.clusterName);
  await thisDevice.expectShown();
  await expect(thisDevice.autoEnrollButton).toBeVisible();
  await screens.capture('device-auto-enroll-offered');

  await thisDevice.autoEnroll();
  await thisDevice.expectEnrolled();
  await new DeviceTrustPage(page).expectIndicator('trusted');
  await expect(thisDevice.autoEnrollButton).toHaveCount(0);
  await screens.capture('device-auto-enrolled');
});

test('not registered: the screen shows the administrator the exact command to run', async ({
  ui,
  cluster,
  users,
  deviceWorld,
  thisDevice,
  screens,
}) => {
  await deviceWorld.setup({ mode: 'required', autoEnroll: true, registered: false });
  await addClusterAndLogIn(ui, cluster, users.alice);
  await ui.topBar.openThisDeviceFromMenu(cluster.clusterName);
  await thisDevice.expectShown();
  await expect(thisDevice.value('registered')).toHaveText('No');
  await expect(thisDevice.adminCommand).toHaveText(deviceWorld.adminCommand);
  await expect(thisDevice.copyCommandButton).toBeVisible();
  // Nothing to auto-enroll: the cluster has no device with this asset tag.
  await expect(thisDevice.autoEnrollButton).toHaveCount(0);
  await screens.capture('device-not-registered');
});

test('required and untrusted: the refusal panel leads to This device', async ({
  ui,
  page,
  cluster,
  users,
  deviceWorld,
  thisDevice,
  screens,
}) => {
  await deviceWorld.setup({ mode: 'required', registered: true });
  await addClusterAndLogIn(ui, cluster, users.alice);
  await ui.servers.connect(cluster.nodeName, users.alice.login);
  const { panel } = new DeviceTrustPage(page).refusal(ui.terminals.region(`${users.alice.login}@${cluster.nodeName}`));
  await expect(panel).toBeVisible({ timeout: 20_000 });
  await screens.capture('device-required-refused');
  await panel.getByRole('button', { name: 'Open This device', exact: true }).click();
  await thisDevice.expectShown();
  await expect(thisDevice.tokenBox).toBeVisible();
});

test('bad tokens: an expired one and one made for another device are worded, and nothing is enrolled', async ({
  ui,
  cluster,
  users,
  deviceWorld,
  thisDevice,
  screens,
}) => {
  test.setTimeout(120_000);
  await deviceWorld.setup({ mode: 'required', registered: true });
  await addClusterAndLogIn(ui, cluster, users.alice);
  await ui.topBar.openThisDeviceFromMenu(cluster.clusterName);
  await thisDevice.expectShown();

  await thisDevice.enrollWithToken(await deviceWorld.expiredToken());
  await thisDevice.expectEnrollFailed(/expired/i);
  await expect(thisDevice.failure).not.toContainText(/\bat \S+\.ts:\d+|Error:/);
  await screens.capture('device-token-expired');

  await thisDevice.enrollWithToken(deviceWorld.tokenForAnotherDevice());
  await thisDevice.expectEnrollFailed(/another device/i);
  await screens.capture('device-token-other-device');
  await expect(thisDevice.value('enrolled')).toHaveText('No');
});

test('diagnostics on the clipboard: the asset tag, the TPM and the cluster answer, no key material', async ({
  app,
  ui,
  cluster,
  users,
  deviceWorld,
  thisDevice,
  screens,
}) => {
  await deviceWorld.setup({ mode: 'required', registered: true, enrolled: true });
  // Browser host: Chromium reads the clipboard only with the permission (Electron allows it).
  if (app.mode === 'browser') await app.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await addClusterAndLogIn(ui, cluster, users.alice);
  await ui.topBar.openThisDeviceFromMenu(cluster.clusterName);
  await thisDevice.expectShown();
  await thisDevice.copyDiagnosticsButton.click();
  let text = '';
  await expect
    .poll(async () => (text = await app.page.evaluate(() => navigator.clipboard.readText())), {
      message: 'diagnostics on the clipboard',
    })
    .toContain(deviceWorld.assetTag);
  expect(text).toContain(cluster.clusterName);
  expect(text).toContain(users.alice.name);
  expect(text).toMatch(/TPM/);
  expect(text).not.toMatch(KEY_MATERIAL);
  expect(text).not.toContain(users.alice.password);
  await screens.capture('device-diagnostics-copied');
});

test('gate device enroll in a terminal: the app sees the shared device store change', async ({
  ui,
  page,
  cluster,
  users,
  deviceWorld,
  thisDevice,
  screens,
}) => {
  test.setTimeout(150_000);
  // optional: the terminal opens before the device is trusted.
  await deviceWorld.setup({ mode: 'optional', registered: true });
  const indicator = new DeviceTrustPage(page);
  await addClusterAndLogIn(ui, cluster, users.alice);
  await indicator.expectIndicator('not enrolled');

  // The node runs on this machine as this OS user, so the app's terminal is a shell here.
  const title = await openTerminal(ui, cluster, users.alice);
  deviceWorld.gateLogin();
  const env = Object.entries(deviceWorld.gateEnv)
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  const gate = `'${process.execPath}' '${ROOT}bin/gate.mjs'`;
  await ui.terminals.run(
    title,
    `printf '%s\\n' ${deviceWorld.enrollToken()} | ${env} ${gate} device enroll --token-stdin; echo enroll-exit-$?`,
  );
  await ui.terminals.waitForOutput(title, /enroll-exit-0/, 60_000);
  const credentialId = (await ui.terminals.waitForOutput(title, /Credential ID: +([0-9a-f]{64})/))[1]!;

  // main watches the store's enrollments.json: no reload, no re-login.
  await expect(indicator.indicator('not enrolled')).toHaveCount(0, { timeout: 5_000 });
  await ui.topBar.openThisDeviceFromMenu(cluster.clusterName);
  await thisDevice.expectShown();
  await expect(thisDevice.value('enrolled')).toHaveText('Yes');
  await expect(thisDevice.field('credential-id')).toContainText(credentialId);
  await screens.capture('device-enrolled-by-gate');
});

test.describe('a machine without a TPM', () => {
  test.use({ deviceTpm: 'absent' });

  test('the TPM section says why, and enrolling stops at the TPM check', async ({
    ui,
    cluster,
    users,
    deviceWorld,
    thisDevice,
    screens,
  }) => {
    await deviceWorld.setup({ mode: 'required', registered: true, tpm: 'absent' });
    await addClusterAndLogIn(ui, cluster, users.alice);
    await ui.topBar.openThisDeviceFromMenu(cluster.clusterName);
    await thisDevice.expectShown();
    await expect(thisDevice.field('tpm-state')).toContainText(/missing|no TPM/i);
    await expect(thisDevice.section('TPM')).toContainText('no TPM 2.0, or it is off in the firmware settings');
    await screens.capture('device-tpm-absent');

    await thisDevice.enrollWithToken(deviceWorld.enrollToken());
    await thisDevice.expectEnrollFailed(/TPM/, 'check-tpm');
  });
});
