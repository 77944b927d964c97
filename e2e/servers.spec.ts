// Searching the servers list by label: the node carries env=e2e and team=blue.
import { addClusterAndLogIn, expect, NODE_LABELS, test } from './fixtures.ts';

test('filtering by label narrows the list, and a non-matching filter shows the empty state', async ({
  ui,
  cluster,
  users,
  screens,
}) => {
  await addClusterAndLogIn(ui, cluster, users.alice);
  await ui.servers.expectListed(cluster.nodeName);

  await ui.servers.filter('team=red');
  await expect(ui.servers.noMatch).toBeVisible();
  await expect(ui.servers.connectButton(cluster.nodeName)).toHaveCount(0);
  await screens.capture('07-servers-no-match');

  for (const query of [`team=${NODE_LABELS.team}`, `env=${NODE_LABELS.env}`, NODE_LABELS.team, cluster.nodeName]) {
    await ui.servers.filter(query);
    await expect(ui.servers.row(cluster.nodeName), `search "${query}"`).toBeVisible();
    await expect(ui.servers.noMatch).toHaveCount(0);
  }

  // A label key with another label's value is not a match: key=value is matched as a pair.
  await ui.servers.filter(`env=${NODE_LABELS.team}`);
  await expect(ui.servers.noMatch).toBeVisible();

  await ui.servers.filter('');
  await expect(ui.servers.row(cluster.nodeName)).toBeVisible();
});
