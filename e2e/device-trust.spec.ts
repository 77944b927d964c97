// Device trust from the app against a cluster whose auth preference requires a trusted device:
// without an enrolled device, connecting shows the unauthorized-device panel and the indicator
// reads "not enrolled"; after the administrator registers this machine and `gate device enroll`
// enrolls it (against a throwaway swtpm, the same TPM the app's main side uses), logging out and
// in again makes the session device-trusted and the same click opens a working terminal.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addClusterAndLogIn, expect, NODE_LABELS, test as base } from './fixtures.ts';
import { DeviceTrustPage } from './pages/device-trust-page.ts';
import { ClusterProcess } from '../test-support/cluster-process.ts';
import { startSwtpm, type Swtpm } from '../test-support/swtpm.ts';

const test = base.extend<{ deviceTrust: DeviceTrustPage }, { swtpm: Swtpm }>({
  swtpm: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const tpm = await startSwtpm();
      try {
        await use(tpm);
      } finally {
        await tpm.stop();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  // Its own cluster (other specs expect device trust not to be required), mode set the way an
  // administrator does it: a cluster_auth_preference written with `gatectl create -f`.
  cluster: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const cluster = new ClusterProcess({
        clusterName: 'e2e-devtrust',
        nodeName: 'web-1',
        nodeLabels: { ...NODE_LABELS },
      });
      try {
        await cluster.start();
        const file = join(cluster.dir, 'cap.yaml');
        writeFileSync(
          file,
          [
            'kind: cluster_auth_preference',
            'version: v2',
            'metadata:',
            '  name: cluster-auth-preference',
            'spec:',
            '  type: local',
            "  second_factor: 'off'",
            '  device_trust:',
            '    mode: required',
            '',
          ].join('\n'),
        );
        const r = cluster.gatectl(['create', '-f', file]);
        if (r.status !== 0 || r.stdout.trim() !== 'cluster auth preference has been updated') {
          throw new Error(`gatectl create -f cap.yaml failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
        }
        await use(cluster);
      } finally {
        await cluster.destroy();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],

  // The app's main side opens the same swtpm as the `gate` runs below.
  appEnv: async ({ swtpm }, use) => {
    await use({ GATEHOUSE_TPM_TCTI: swtpm.tcti });
  },

  deviceTrust: async ({ page }, use) => {
    await use(new DeviceTrustPage(page));
  },
});

test('untrusted: the unauthorized-device panel; after enrolling and logging in again: trusted, and the terminal opens', async ({
  ui,
  app,
  cluster,
  users,
  swtpm,
  deviceTrust,
  screens,
}) => {
  test.setTimeout(150_000);
  const { alice } = users;
  const title = `${alice.login}@${cluster.nodeName}`;
  // `gate` as the person at this machine: the app's home (its login) and the app's TPM.
  const gateEnv = { GATEHOUSE_HOME: app.home, GATEHOUSE_TPM_TCTI: swtpm.tcti };

  await addClusterAndLogIn(ui, cluster, alice);
  await deviceTrust.expectIndicator('not enrolled');
  const before = await deviceTrust.openPopover('not enrolled');
  await expect(before).toContainText('Full access requires a trusted device.');
  await expect(before).toContainText('gate device enroll" (it asks for the token)');
  await expect(deviceTrust.row(before, 'Cluster mode')).toHaveText('required');
  await screens.capture('20-device-popover-not-enrolled');
  await deviceTrust.closePopover('not enrolled');

  // The node refuses the session: the tab shows the denial and how to fix it, not a stack trace.
  await ui.servers.connect(cluster.nodeName, alice.login);
  const region = ui.terminals.region(title);
  const { alert, panel } = deviceTrust.refusal(region);
  await expect(alert).toBeVisible({ timeout: 20_000 });
  await expect(alert).toContainText('Access denied: Unauthorized device.');
  await expect(panel).toBeVisible();
  await expect(panel).toContainText('only accepts sessions from a trusted device');
  await expect(panel).toContainText('gate device enroll" (it asks for the token)');
  await expect(panel).toContainText('log out and log in again');
  await expect(alert).not.toContainText(/\bat \S+\.ts:\d+|Error:/);
  await expect(region.getByRole('button', { name: 'Reconnect' })).toBeVisible();
  await screens.capture('21-device-unauthorized-panel');

  // The administrator registers this machine by its asset tag; its owner enrolls it.
  const tag = cluster.gate(['device', 'asset-tag'], '', gateEnv);
  expect(tag.status, tag.stderr).toBe(0);
  const assetTag = tag.stdout.trim();
  const add = cluster.gatectl(['devices', 'add', '--asset-tag', assetTag, '--os', 'linux', '--enroll']);
  expect(add.status, add.stderr).toBe(0);
  const token = /^ {2}(\S{20,})$/m.exec(add.stdout)?.[1];
  expect(token, add.stdout).toBeTruthy();
  const enroll = cluster.gate(['device', 'enroll', '--token-stdin'], `${token}\n`, gateEnv);
  expect(enroll.status, `${enroll.stdout}\n${enroll.stderr}`).toBe(0);
  const credentialId = /^ {2}Credential ID: +([0-9a-f]{64})$/m.exec(enroll.stdout)?.[1];
  expect(credentialId, enroll.stdout).toBeTruthy();

  // Enrolled: a new login runs device authentication (this spec covers that path; the app may also
  // have re-authenticated this session on seeing the shared enrollment file). The refused tab is
  // still open, so logging out asks first.
  await ui.topBar.logOutConfirming(cluster.clusterName);
  await ui.login.expectShown(cluster.clusterName);
  await ui.login.logIn(alice.name, alice.password);
  await ui.servers.expectShown();
  await deviceTrust.expectIndicator('trusted');
  const after = await deviceTrust.openPopover('trusted');
  await expect(deviceTrust.row(after, 'Asset tag')).toHaveText(assetTag);
  await expect(deviceTrust.row(after, 'Credential ID')).toHaveText(credentialId!);
  await expect(deviceTrust.row(after, 'Attestation')).toHaveText(/^ek(cert|pub)$/);
  await expect(deviceTrust.row(after, 'Device fields issued')).not.toBeEmpty();
  await expect(after).not.toContainText('Full access requires');
  await screens.capture('22-device-popover-trusted');
  await deviceTrust.closePopover('trusted');

  // The same click now opens a working terminal.
  await ui.servers.connect(cluster.nodeName, alice.login);
  await ui.terminals.expectConnected(title);
  await ui.terminals.run(title, 'echo trusted-$((20+22))');
  await ui.terminals.waitForOutput(title, /trusted-42/);
  await expect(deviceTrust.refusal(ui.terminals.region(title)).alert).toHaveCount(0);
  await screens.capture('23-device-trusted-terminal');
});
