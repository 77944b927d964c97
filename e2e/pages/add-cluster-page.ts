// Screen 1, no cluster yet: "Connect to a cluster" with the proxy address form.
import { expect, type Locator, type Page } from '@playwright/test';

export class AddClusterPage {
  readonly heading: Locator;
  readonly proxyAddress: Locator;
  readonly addButton: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Connect to a cluster' });
    this.proxyAddress = page.getByRole('textbox', { name: 'Proxy address' });
    this.addButton = page.getByRole('button', { name: 'Add cluster' });
    this.error = page.getByRole('alert');
  }

  async expectShown(): Promise<void> {
    await expect(this.heading).toBeVisible();
    await expect(this.proxyAddress).toBeVisible();
  }

  async add(proxy: string): Promise<void> {
    await this.proxyAddress.fill(proxy);
    await this.addButton.click();
  }
}
