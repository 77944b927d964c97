// A login whose certificates run out: the role caps sessions at SHORT_SESSION_SECONDS, so the app
// must notice the expiry, ask for the password in the "Your session expired" dialog, and carry on.
import { addClusterAndLogIn, expect, SHORT_SESSION_SECONDS, test } from './fixtures.ts';

test('after the certificate expires the app asks to log in again, and the relogin works', async ({
  ui,
  page,
  cluster,
  users,
  screens,
}) => {
  test.setTimeout(SHORT_SESSION_SECONDS * 1000 + 60_000);
  const { sam } = users;
  const loggedInAt = Date.now();
  await addClusterAndLogIn(ui, cluster, sam);
  await ui.servers.expectListed(cluster.nodeName);
  await expect(ui.login.expiredDialog).toHaveCount(0);

  // Wait out the certificate, then use the app: the next call (or the app's own expiry timer)
  // must bring up the dialog instead of a generic error.
  await page.waitForTimeout(Math.max(0, loggedInAt + SHORT_SESSION_SECONDS * 1000 + 1000 - Date.now()));
  if (!(await ui.login.expiredDialog.isVisible())) {
    // The app's own expiry timer may open the dialog at this very moment and cover the button;
    // then this click gives up, and the dialog is what we wait for either way.
    await ui.topBar.servers.click({ timeout: 3_000 }).catch(() => undefined);
  }
  await expect(ui.login.expiredDialog).toBeVisible({ timeout: 10_000 });
  await expect(ui.login.expiredDialog).toContainText(sam.name);
  await screens.capture('09-session-expired');

  await ui.login.logInAgain(sam.password);
  await expect(ui.login.expiredDialog).toHaveCount(0);
  await ui.servers.expectListed(cluster.nodeName);
  await expect(ui.topBar.userName(sam.name)).toBeVisible();
});
