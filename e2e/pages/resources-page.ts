// Screen 3, "Resources": the kind filter (All / Servers / Databases / Apps), the Databases section —
// a table of databases with Connect per row, which opens the db connect dialog — and the Apps
// section: a table of apps with Launch (web apps) or Connect (TCP apps) per row.
import { expect, type Locator, type Page } from '@playwright/test';

export type ResourceKindLabel = 'All' | 'Servers' | 'Databases' | 'Apps';

export class ResourcesPage {
  readonly heading: Locator;
  readonly databasesHeading: Locator;
  readonly serversHeading: Locator;
  readonly databasesTable: Locator;
  readonly noDatabases: Locator;
  readonly noDatabaseMatch: Locator;
  readonly appsHeading: Locator;
  readonly appsTable: Locator;
  readonly noApps: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Resources', exact: true, level: 1 });
    this.databasesHeading = page.getByRole('heading', { name: 'Databases', exact: true, level: 2 });
    this.serversHeading = page.getByRole('heading', { name: 'Servers', exact: true, level: 2 });
    this.databasesTable = page.getByRole('table', { name: 'Databases', exact: true });
    this.noDatabases = page.getByRole('heading', { name: 'No databases yet' });
    this.noDatabaseMatch = page.getByRole('heading', { name: /^No databases match/ });
    this.appsHeading = page.getByRole('heading', { name: 'Apps', exact: true, level: 2 });
    this.appsTable = page.getByRole('table', { name: 'Apps', exact: true });
    this.noApps = page.getByRole('heading', { name: 'No apps yet' });
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

  /** "Launch app NAME" on a web app's row. */
  launchButton(app: string): Locator {
    return this.page.getByRole('button', { name: `Launch app ${app}`, exact: true });
  }

  /** "Connect to app NAME" on a TCP app's row. */
  connectAppButton(app: string): Locator {
    return this.page.getByRole('button', { name: `Connect to app ${app}`, exact: true });
  }

  appRow(app: string): Locator {
    return this.appsTable
      .getByRole('row')
      .filter({ has: this.page.getByRole('rowheader').getByText(app, { exact: true }) });
  }

  /** The row is shown with its kind ("Web (HTTP)" | "TCP") under the table's columns. */
  async expectAppListed(app: string, kind: 'Web (HTTP)' | 'TCP'): Promise<void> {
    await expect(this.appRow(app)).toBeVisible();
    await expect(this.appRow(app).getByRole('cell', { name: kind, exact: true })).toBeVisible();
    for (const column of ['Name', 'Kind', 'Labels']) {
      await expect(this.appsTable.getByRole('columnheader', { name: column, exact: true })).toBeVisible();
    }
  }
}
