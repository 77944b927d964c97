// Screen 3, "Resources": the kind filter (All / Servers / Databases) and the Databases section —
// a table of databases with Connect per row, which opens the db connect dialog.
import { expect, type Locator, type Page } from '@playwright/test';

export type ResourceKindLabel = 'All' | 'Servers' | 'Databases';

export class ResourcesPage {
  readonly heading: Locator;
  readonly databasesHeading: Locator;
  readonly serversHeading: Locator;
  readonly databasesTable: Locator;
  readonly noDatabases: Locator;
  readonly noDatabaseMatch: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Resources', exact: true, level: 1 });
    this.databasesHeading = page.getByRole('heading', { name: 'Databases', exact: true, level: 2 });
    this.serversHeading = page.getByRole('heading', { name: 'Servers', exact: true, level: 2 });
    this.databasesTable = page.getByRole('table', { name: 'Databases', exact: true });
    this.noDatabases = page.getByRole('heading', { name: 'No databases yet' });
    this.noDatabaseMatch = page.getByRole('heading', { name: /^No databases match/ });
  }

  kind(label: ResourceKindLabel): Locator {
    return this.page.getByRole('radio', { name: label, exact: true });
  }

  async showKind(label: ResourceKindLabel): Promise<void> {
    // The radio itself is visually hidden inside its label: check it through the label.
    await this.kind(label).check({ force: true });
    await expect(this.kind(label)).toBeChecked();
  }

  connectButton(database: string): Locator {
    return this.page.getByRole('button', { name: `Connect to database ${database}`, exact: true });
  }

  databaseRow(database: string): Locator {
    return this.databasesTable.getByRole('row').filter({ has: this.connectButton(database) });
  }

  async expectDatabaseListed(database: string): Promise<void> {
    await expect(this.databaseRow(database)).toBeVisible();
    for (const column of ['Name', 'Protocol', 'Labels', 'Database users']) {
      await expect(this.databasesTable.getByRole('columnheader', { name: column, exact: true })).toBeVisible();
    }
  }
}
