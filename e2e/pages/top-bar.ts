// Screen 5, the top bar: cluster switcher (with "Add cluster", other clusters, "Log out"), the
// signed-in user, the "Resources" navigation (servers and databases), the "Keyboard shortcuts"
// button (the same dialog as Ctrl+/), and the way to the "This device" screen: the device trust
// indicator's popover button or the cluster menu's item.
import { expect, type Locator, type Page } from '@playwright/test';

export class TopBar {
  readonly servers: Locator;
  readonly banner: Locator;
  readonly shortcutsButton: Locator;
  /** The "Keyboard shortcuts" dialog and its table of keys. */
  readonly shortcutsDialog: Locator;

  constructor(readonly page: Page) {
    this.banner = page.getByRole('banner');
    this.shortcutsButton = page.getByRole('button', { name: 'Keyboard shortcuts', exact: true });
    this.shortcutsDialog = page.getByRole('dialog', { name: 'Keyboard shortcuts', exact: true });
    this.servers = page.getByRole('navigation').getByRole('button', { name: 'Resources', exact: true });
  }

  clusterSwitcher(clusterName: string): Locator {
    return this.page.getByRole('button', { name: `Cluster: ${clusterName}`, exact: true });
  }

  userName(user: string): Locator {
    // The element reads "Logged in as <user>" to screen readers, "<user>" on screen.
    return this.banner.getByText(new RegExp(`(^|\\s)${user.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  }

  /** An entry of the open cluster menu ("Add cluster", another cluster, "Log out"). */
  menuItem(name: string): Locator {
    return this.page.getByRole('menuitem', { name, exact: true });
  }

  async openClusterMenu(clusterName: string): Promise<void> {
    await this.clusterSwitcher(clusterName).click();
  }

  /** Logs out of a cluster with no tabs open (with tabs, the app asks: see logOutConfirming). */
  async logOut(clusterName: string): Promise<void> {
    await this.openClusterMenu(clusterName);
    await this.menuItem('Log out').click();
  }

  /** The device trust indicator, whatever it reads ("Device trust: trusted | not enrolled | not trusted"). */
  get deviceIndicator(): Locator {
    return this.banner.getByRole('button', { name: /^Device trust: / });
  }

  /** Indicator → its popover → "Open This device". */
  async openThisDeviceFromIndicator(): Promise<void> {
    await this.deviceIndicator.click();
    await this.page.getByRole('dialog').getByRole('button', { name: 'Open This device', exact: true }).click();
  }

  /** Cluster menu → "This device". */
  async openThisDeviceFromMenu(clusterName: string): Promise<void> {
    await this.openClusterMenu(clusterName);
    await this.menuItem('This device').click();
  }

  /** "Log out of <cluster>?": asked when terminals or gateways of the cluster are open. */
  logOutDialog(clusterName: string): Locator {
    return this.page.getByRole('dialog', { name: `Log out of ${clusterName}?`, exact: true });
  }

  /** Logs out with tabs open: "Log out", then "Log out" in the question. */
  async logOutConfirming(clusterName: string): Promise<void> {
    await this.logOut(clusterName);
    const dialog = this.logOutDialog(clusterName);
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Log out', exact: true }).click();
    await expect(dialog).toHaveCount(0);
  }

  /** Opens the "Keyboard shortcuts" dialog from its top-bar button. */
  async openShortcuts(): Promise<void> {
    await this.shortcutsButton.click();
    await expect(this.shortcutsDialog).toBeVisible();
  }
}
