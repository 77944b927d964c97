// Screen 3, "Resources", its Servers section: search, the table of nodes, a login picker and
// Connect per row (databases: see resources-page.ts).
import { expect, type Locator, type Page } from '@playwright/test';

export class ServersPage {
  readonly heading: Locator;
  readonly search: Locator;
  readonly table: Locator;
  /** The empty state shown when the search matches nothing. */
  readonly noMatch: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Servers', exact: true });
    this.search = page.getByRole('searchbox', { name: 'Search servers' });
    this.table = page.getByRole('table', { name: 'Servers', exact: true });
    this.noMatch = page.getByRole('heading', { name: /^No servers match/ });
  }

  connectButton(server: string): Locator {
    return this.page.getByRole('button', { name: `Connect to ${server}`, exact: true });
  }

  loginPicker(server: string): Locator {
    return this.page.getByRole('combobox', { name: `Log in as on ${server}`, exact: true });
  }

  /** The row of `server`: the one holding its Connect button. */
  row(server: string): Locator {
    return this.table.getByRole('row').filter({ has: this.connectButton(server) });
  }

  async expectShown(): Promise<void> {
    await expect(this.heading).toBeVisible();
    await expect(this.search).toBeVisible();
  }

  async expectListed(server: string): Promise<void> {
    await expect(this.row(server)).toBeVisible();
    for (const column of ['Name', 'Address', 'Labels', 'Log in as']) {
      await expect(this.table.getByRole('columnheader', { name: column, exact: true })).toBeVisible();
    }
  }

  async filter(query: string): Promise<void> {
    await this.search.fill(query);
  }

  async connect(server: string, login?: string): Promise<void> {
    if (login !== undefined) await this.loginPicker(server).selectOption(login);
    await this.connectButton(server).click();
  }
}
