// What people hit with tabs and keys: a reload offers the tabs back, the app's shortcuts (and the
// shell keeping Ctrl+K), the question before logging out with tabs open, and a session's end in words.
import { addClusterAndLogIn, expect, openTerminal, test } from './fixtures.ts';

test('after a reload the open tab is offered back once; "Reopen tabs" reconnects it', async ({
  ui,
  page,
  cluster,
  users,
  screens,
}) => {
  await addClusterAndLogIn(ui, cluster, users.alice);
  const title = await openTerminal(ui, cluster, users.alice);

  await page.reload();
  await ui.servers.expectShown();
  await expect(ui.terminals.tab(title)).toHaveCount(0);
  await expect(ui.terminals.reopenBanner).toContainText(title);
  await screens.capture('30-reopen-tabs-banner');
  await ui.terminals.reopenButton.click();
  await ui.terminals.expectConnected(title);
  await expect(ui.terminals.reopenBanner).toHaveCount(0);

  // Decided: the next reload offers what is open now, once more — "Not now" forgets it.
  await page.reload();
  await ui.terminals.notNowButton.click();
  await expect(ui.terminals.reopenBanner).toHaveCount(0);
  await page.reload();
  await ui.servers.expectShown();
  await expect(ui.terminals.reopenBanner).toHaveCount(0);
});

test('shortcuts: Ctrl+/ lists them, Ctrl+K searches, Ctrl+1 returns to the tab; in the shell Ctrl+K stays the shell’s', async ({
  ui,
  page,
  cluster,
  users,
  screens,
}) => {
  await addClusterAndLogIn(ui, cluster, users.alice);
  await page.keyboard.press('Control+/');
  await expect(ui.topBar.shortcutsDialog).toBeVisible();
  await expect(ui.topBar.shortcutsDialog.getByRole('table')).toContainText('Ctrl+Shift+K');
  await screens.capture('31-keyboard-shortcuts');
  await page.keyboard.press('Escape');
  await expect(ui.topBar.shortcutsDialog).toHaveCount(0);
  await ui.topBar.openShortcuts();
  await ui.topBar.shortcutsDialog.getByRole('button', { name: 'Close', exact: true }).click();

  const title = await openTerminal(ui, cluster, users.alice);
  // Readline's Ctrl+K (delete to the end of the line) reaches the shell: the typed tail is gone.
  await ui.terminals.region(title).click();
  await page.keyboard.type('echo kept-$((6*7))-gone');
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Control+k');
  await page.keyboard.press('Enter');
  await ui.terminals.waitForOutput(title, /^kept-42$/m);
  await expect(ui.servers.search).toBeHidden();

  // Ctrl+Shift+K is the app's, even from inside the terminal.
  await page.keyboard.press('Control+Shift+K');
  await expect(ui.servers.search).toBeFocused();
  await page.keyboard.type('web');
  await page.keyboard.press('Control+1');
  await expect(ui.terminals.tab(title)).toHaveAttribute('aria-selected', 'true');
  await expect(ui.terminals.region(title)).toBeVisible();
  // Back in the terminal (focused again): the Shift variant; the search kept its text.
  await page.keyboard.press('Control+Shift+K');
  await expect(ui.servers.search).toBeFocused();
  await expect(ui.servers.search).toHaveValue('web');
});

test('logging out with a tab open asks first; a shell that exits says so in words', async ({ ui, cluster, users }) => {
  await addClusterAndLogIn(ui, cluster, users.alice);
  const title = await openTerminal(ui, cluster, users.alice);
  await ui.terminals.run(title, 'exit');
  await expect(ui.terminals.region(title)).toContainText(
    'Session ended: you logged out of the server (the shell exited).',
  );

  await ui.topBar.logOut(cluster.clusterName);
  const question = ui.topBar.logOutDialog(cluster.clusterName);
  await expect(question).toBeVisible();
  await question.getByRole('button', { name: 'Cancel', exact: true }).click();
  await expect(ui.terminals.tab(title)).toBeVisible();

  await ui.topBar.logOutConfirming(cluster.clusterName);
  await ui.login.expectShown(cluster.clusterName);
});
