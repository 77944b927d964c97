// Databases in the app against a real cluster with its db service and a real PostgreSQL: the
// resource browser's kind filter, Connect → db user / db name → a gateway tab with a loopback
// address → Run → psql in a terminal tab answers `select 1` through the gateway. Then the
// gateway moves to another port, and closing it ends the tab; a device-trust denial shows in psql
// and, with the remedy, in the gateway tab.
import type { PostgresServer } from '../test-support/databases/postgres.ts';
import { ClusterProcess, freePort, type ClusterUser } from '../test-support/cluster-process.ts';
import { addClusterAndLogIn, expect, NODE_LABELS, test as base } from './fixtures.ts';
import { DB_ROLE, dbServiceConfig, DEVICE_DB_ROLE, E2E_DB, startE2eDatabase } from './support/database-world.ts';

interface DbWorkerFixtures {
  cluster: ClusterProcess;
  database: PostgresServer;
  /** May reach the database. */
  dana: ClusterUser;
  /** May reach it only from a trusted device, which the test's app is not. */
  dave: ClusterUser;
}

const test = base.extend<object, DbWorkerFixtures>({
  cluster: [
    // eslint-disable-next-line no-empty-pattern -- Playwright requires the destructuring form.
    async ({}, use) => {
      const cluster = new ClusterProcess({
        clusterName: 'e2e',
        nodeName: 'web-1',
        nodeLabels: { ...NODE_LABELS },
        extraConfig: await dbServiceConfig(),
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
  database: [
    async ({ cluster }, use) => {
      const pg = await startE2eDatabase(cluster);
      try {
        await use(pg);
      } finally {
        await pg.stop();
      }
    },
    { scope: 'worker', timeout: 60_000 },
  ],
  dana: [
    async ({ cluster, database: _database }, use) => {
      await use(cluster.addUser('dana', ['access', DB_ROLE]));
    },
    { scope: 'worker' },
  ],
  dave: [
    async ({ cluster, database: _database }, use) => {
      await use(cluster.addUser('dave', ['access', DEVICE_DB_ROLE]));
    },
    { scope: 'worker' },
  ],
});

const GATEWAY = `${E2E_DB.dbUser}@${E2E_DB.name}`;
const PSQL_TAB = `psql ${GATEWAY}`;

test('Connect on a PostgreSQL database → gateway tab → Run → psql answers select 1', async ({
  ui,
  cluster,
  dana,
  screens,
}) => {
  await addClusterAndLogIn(ui, cluster, dana);
  await expect(ui.resources.heading).toBeVisible();
  await ui.resources.expectDatabaseListed(E2E_DB.name);
  await expect(ui.servers.row(cluster.nodeName)).toBeVisible();

  await ui.resources.showKind('Databases');
  await expect(ui.resources.serversHeading).toHaveCount(0);
  await ui.servers.filter('env=e2e postgres');
  await ui.resources.expectDatabaseListed(E2E_DB.name);
  await screens.capture('db-01-resources-databases');

  await ui.resources.connectButton(E2E_DB.name).click();
  await ui.dbConnect.expectShown(E2E_DB.name);
  await expect(ui.dbConnect.field(E2E_DB.name, 'Database user')).toHaveValue(E2E_DB.dbUser);
  await ui.dbConnect.connect(E2E_DB.name, { dbName: E2E_DB.dbName });
  await expect(ui.dbConnect.dialog(E2E_DB.name)).toHaveCount(0);

  const port = await ui.gateways.expectOpen(GATEWAY);
  await expect(ui.gateways.command(GATEWAY)).toHaveValue(
    `psql "host=127.0.0.1 port=${port} user=${E2E_DB.dbUser} dbname=${E2E_DB.dbName} sslmode=disable"`,
  );
  await expect(ui.gateways.status(GATEWAY)).toHaveText(/no client connected/);
  await screens.capture('db-02-gateway-tab');

  await ui.gateways.button(GATEWAY, 'Run').click();
  await ui.terminals.expectConnected(PSQL_TAB);
  await ui.terminals.waitForOutput(PSQL_TAB, new RegExp(`${E2E_DB.dbName}=>`), 15_000);
  await ui.terminals.run(PSQL_TAB, 'select 1 as gatehouse_e2e;');
  await ui.terminals.waitForOutput(PSQL_TAB, /gatehouse_e2e\s*-+\s*1\s*\(1 row\)/, 15_000);
  await screens.capture('db-03-psql-select-1');

  // The live psql session shows in the gateway tab.
  await ui.gateways.tab(GATEWAY).click();
  await expect(ui.gateways.status(GATEWAY)).toHaveText(/1 client connected/, { timeout: 5_000 });
  await ui.terminals.tab(PSQL_TAB).click();
  await ui.terminals.run(PSQL_TAB, '\\q');
  await ui.terminals.waitForOutput(PSQL_TAB, /Session ended: psql exited\./);
});

test('the gateway moves to another port; closing it removes its tab', async ({ ui, cluster, dana, screens }) => {
  await addClusterAndLogIn(ui, cluster, dana);
  await ui.resources.connectButton(E2E_DB.name).click();
  await ui.dbConnect.connect(E2E_DB.name, { dbName: E2E_DB.dbName });
  const first = await ui.gateways.expectOpen(GATEWAY);

  const next = await freePort();
  await ui.gateways.changePort(GATEWAY, next);
  await expect(ui.gateways.address(GATEWAY)).toHaveValue(`127.0.0.1:${next}`);
  expect(next).not.toBe(first);
  await expect(ui.gateways.command(GATEWAY)).toHaveValue(new RegExp(`port=${next} `));
  await screens.capture('db-04-gateway-port-changed');

  await ui.gateways.button(GATEWAY, 'Close gateway').click();
  await expect(ui.gateways.tab(GATEWAY)).toHaveCount(0);
  await expect(ui.resources.heading).toBeVisible();
});

test('a device-trust denial reaches psql natively and the gateway tab with the remedy', async ({
  ui,
  cluster,
  dave,
  screens,
}) => {
  await addClusterAndLogIn(ui, cluster, dave);
  await ui.resources.connectButton(E2E_DB.name).click();
  await ui.dbConnect.connect(E2E_DB.name, { dbName: E2E_DB.dbName });
  await ui.gateways.expectOpen(GATEWAY);
  await ui.gateways.button(GATEWAY, 'Run').click();
  await ui.terminals.waitForOutput(PSQL_TAB, /FATAL:\s+.*unauthorized device/, 15_000);

  await ui.gateways.tab(GATEWAY).click();
  await expect(ui.gateways.refusal(GATEWAY)).toHaveText('Last connection denied');
  const region = ui.gateways.region(GATEWAY);
  await expect(region.getByRole('alert')).toContainText('Access denied: Unauthorized device.');
  await expect(region.getByRole('alert')).toContainText('gate device enroll');
  await expect(region.getByText(/at .*stack|Error:/)).toHaveCount(0);
  await screens.capture('db-05-gateway-device-denied');
});
