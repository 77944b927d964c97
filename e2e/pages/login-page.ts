// Screen 2, log in to a cluster; and screen 6, the "Your session expired" dialog, which asks for
// the same password. A login a lock refuses shows the lock's message in the form's alert.
import { expect, type Locator, type Page } from '@playwright/test';

export class LoginPage {
  readonly userName: Locator;
  readonly password: Locator;
  readonly oneTimeCode: Locator;
  readonly logInButton: Locator;
  readonly error: Locator;
  readonly expiredDialog: Locator;

  constructor(readonly page: Page) {
    this.userName = page.getByRole('textbox', { name: 'User name' });
    // A password input has no ARIA role, so it is found by its label.
    this.password = page.getByLabel('Password', { exact: true });
    this.oneTimeCode = page.getByRole('textbox', { name: 'One-time code' });
    this.logInButton = page.getByRole('button', { name: 'Log in', exact: true });
    this.error = page.getByRole('alert');
    this.expiredDialog = page.getByRole('dialog', { name: 'Your session expired' });
  }

  heading(clusterName: string): Locator {
    return this.page.getByRole('heading', { name: `Log in to ${clusterName}` });
  }

  async expectShown(clusterName: string): Promise<void> {
    await expect(this.heading(clusterName)).toBeVisible();
    await expect(this.userName).toBeVisible();
    await expect(this.password).toBeVisible();
  }

  async logIn(user: string, password: string): Promise<void> {
    await this.userName.fill(user);
    await this.password.fill(password);
    await this.logInButton.click();
  }

  async logInAgain(password: string): Promise<void> {
    await this.expiredDialog.getByLabel('Password', { exact: true }).fill(password);
    await this.expiredDialog.getByRole('button', { name: 'Log in again' }).click();
  }

  /** Logs in and expects the form's alert to carry the lock's message (the login was refused). */
  async expectLockedOut(user: string, password: string, lockMessage: string): Promise<void> {
    await this.logIn(user, password);
    await expect(this.error).toContainText(lockMessage);
    await expect(this.logInButton).toBeVisible();
  }
}
