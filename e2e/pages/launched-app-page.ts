// The browser tab Launch opens on a web app (the browser host stands in for the user's browser:
// it opens a new tab of the same browser). What a person sees there: the app's own page through
// the gateway, or Gatehouse's refusal page (a heading with the refusal's words and the remedy).
import { expect, type BrowserContext, type Locator, type Page } from '@playwright/test';

export class LaunchedAppPage {
  constructor(readonly page: Page) {}

  /**
   * Runs `launch` (a click on Launch or Open in browser) and returns the tab it opened, loaded.
   * The tab is caught on the context: the renderer opens it with noopener, so it has no opener.
   */
  static async opening(context: BrowserContext, launch: () => Promise<void>): Promise<LaunchedAppPage> {
    const [page] = await Promise.all([context.waitForEvent('page', { timeout: 15_000 }), launch()]);
    await page.waitForLoadState('domcontentloaded');
    return new LaunchedAppPage(page);
  }

  heading(name: string | RegExp): Locator {
    return this.page.getByRole('heading', { name, level: 1 });
  }

  /** The refusal page: its heading is the refusal's exact words, then the remedy and the code. */
  async expectRefused(words: string, code: string): Promise<void> {
    await expect(this.heading(words)).toBeVisible();
    await expect(this.page).toHaveTitle('Gatehouse: access refused');
    await expect(this.page.getByText(`Gatehouse error ${code}`, { exact: true })).toBeVisible();
  }

  async close(): Promise<void> {
    await this.page.close();
  }
}
