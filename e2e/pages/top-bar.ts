// Screen 5, the top bar: cluster switcher (with "Add cluster", other clusters, "Log out"), the
// signed-in user and the "Resources" navigation (servers and databases); the way to the "This
// device" screen: the device trust indicator's popover button or the cluster menu's item.
import type { Locator, Page } from '@playwright/test';

export class TopBar {
  readonly servers: Locator;
  readonly banner: Locator;

  constructor(readonly page: Page) {
    this.banner = page.getByRole('banner');
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
}
