// The "Connect to <database>" dialog: database user and database name (a list when the roles
// name them, a text box when they allow any), Connect and Cancel, refusals as an alert.
import { expect, type Locator, type Page } from '@playwright/test';

export class DbConnectDialog {
  constructor(readonly page: Page) {}

  dialog(database: string): Locator {
    return this.page.getByRole('dialog', { name: `Connect to ${database}`, exact: true });
  }

  /** The field whatever its form: a combobox (picked from the roles' list) or a textbox (any). */
  field(database: string, label: 'Database user' | 'Database name'): Locator {
    return this.dialog(database).getByLabel(label, { exact: true });
  }

  error(database: string): Locator {
    return this.dialog(database).getByRole('alert');
  }

  async expectShown(database: string): Promise<void> {
    await expect(this.dialog(database)).toBeVisible();
    await expect(this.field(database, 'Database user')).toBeVisible();
  }

  /** Fills what is given (selecting from a list or typing) and presses Connect. */
  async connect(database: string, choice: { dbUser?: string; dbName?: string }): Promise<void> {
    for (const [label, value] of [
      ['Database user', choice.dbUser],
      ['Database name', choice.dbName],
    ] as const) {
      if (value === undefined) continue;
      const field = this.field(database, label);
      if ((await field.evaluate((el) => el.tagName)) === 'SELECT') await field.selectOption(value);
      else await field.fill(value);
    }
    await this.dialog(database).getByRole('button', { name: 'Connect', exact: true }).click();
  }
}
