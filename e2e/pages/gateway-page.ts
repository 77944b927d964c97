// A gateway tab: its tab "Gateway <db user>@<database>" (an app's: "Gateway <app>") and region of
// the same name with the local address, the port form, the client command (Copy, Run) — for an
// app, the browser address (Open in browser, Copy address) or a TCP app's local address (Copy
// address) — the status line and the last refusal; "Close gateway".
import { expect, type Locator, type Page } from '@playwright/test';

export class GatewayPage {
  constructor(readonly page: Page) {}

  /** "alice@orders" → the tab and region "Gateway alice@orders". */
  tab(title: string): Locator {
    return this.page.getByRole('tablist').getByRole('tab', { name: `Gateway ${title}`, exact: true });
  }

  region(title: string): Locator {
    return this.page.getByRole('region', { name: `Gateway ${title}`, exact: true });
  }

  address(title: string): Locator {
    return this.region(title).getByRole('textbox', { name: 'Local address', exact: true });
  }

  port(title: string): Locator {
    return this.region(title).getByRole('textbox', { name: 'Local port', exact: true });
  }

  command(title: string): Locator {
    return this.region(title).getByRole('textbox', { name: 'Client command', exact: true });
  }

  button(
    title: string,
    name: 'Run' | 'Copy command' | 'Change port' | 'Close gateway' | 'Open in browser' | 'Copy address' | 'Copied',
  ): Locator {
    return this.region(title).getByRole('button', { name, exact: true });
  }

  status(title: string): Locator {
    return this.region(title)
      .getByRole('status')
      .filter({ hasText: /connected|open$/ });
  }

  /** A web app's http://localhost:PORT/ in its gateway tab. */
  browserAddress(title: string): Locator {
    return this.region(title).getByRole('textbox', { name: 'Address in your browser', exact: true });
  }

  /** An app gateway's tab is shown with a web app's localhost URL; returns it. */
  async expectWebAppOpen(app: string): Promise<string> {
    await expect(this.tab(app)).toBeVisible();
    await expect(this.region(app)).toBeVisible();
    await expect(this.browserAddress(app)).toHaveValue(/^http:\/\/localhost:\d+\/$/);
    return this.browserAddress(app).inputValue();
  }

  refusal(title: string): Locator {
    return this.region(title).getByRole('heading', { name: /^Last connection (denied|failed)$/ });
  }

  /** The tab is shown with a loopback address; returns the local port. */
  async expectOpen(title: string): Promise<number> {
    await expect(this.tab(title)).toBeVisible();
    await expect(this.region(title)).toBeVisible();
    await expect(this.address(title)).toHaveValue(/^127\.0\.0\.1:\d+$/);
    const port = Number((await this.address(title).inputValue()).split(':')[1]);
    expect(port).toBeGreaterThan(0);
    return port;
  }

  async changePort(title: string, port: number): Promise<void> {
    await this.port(title).fill(String(port));
    await this.button(title, 'Change port').click();
  }
}
