// Screen 4, terminals: the tab strip and each tab's terminal region. The terminal's text is read
// from the region (xterm renders rows into the DOM). Closing a live tab asks first ("Close the
// session to X?"); after a reload a banner offers "Reopen tabs" / "Not now".
import { expect, type Locator, type Page } from '@playwright/test';

export class TerminalPage {
  readonly tablist: Locator;

  constructor(readonly page: Page) {
    this.tablist = page.getByRole('tablist');
  }

  tab(title: string): Locator {
    return this.tablist.getByRole('tab', { name: title, exact: true });
  }

  closeButton(title: string): Locator {
    return this.page.getByRole('button', { name: `Close ${title}`, exact: true });
  }

  region(title: string): Locator {
    return this.page.getByRole('region', { name: `Terminal ${title}`, exact: true });
  }

  reconnectButton(title: string): Locator {
    return this.region(title).getByRole('button', { name: 'Reconnect' });
  }

  /**
   * Waits for the session to be up: the tab exists, "Connecting…" is gone and the shell has
   * printed something (its prompt), so typed keys go to the shell rather than the tty's echo.
   */
  async expectConnected(title: string): Promise<void> {
    await expect(this.tab(title)).toBeVisible();
    await expect(this.region(title)).toBeVisible();
    // role="status" takes no name from its content, so it is matched by its text.
    await expect(this.region(title).getByRole('status').filter({ hasText: 'Connecting' })).toHaveCount(0, {
      timeout: 15_000,
    });
    await this.waitForOutput(title, /\S/, 15_000);
  }

  /** Which renderer draws the terminal: "webgl" where the browser gives WebGL2, else "dom". */
  async renderer(title: string): Promise<string | null> {
    return this.region(title).locator('.terminal-host').getAttribute('data-renderer');
  }

  /** Ctrl+C to the terminal (focus by clicking into it): the shell's interrupt, not copy. */
  async interrupt(title: string): Promise<void> {
    await this.region(title).click();
    await this.page.keyboard.press('Control+C');
  }

  /** Types a command line into the terminal (focus by clicking into it) and presses Enter. */
  async run(title: string, command: string): Promise<void> {
    await this.region(title).click();
    await this.page.keyboard.type(command);
    await this.page.keyboard.press('Enter');
  }

  /** The terminal's current screen and scrollback as text. */
  async text(title: string): Promise<string> {
    return (await this.region(title).innerText()).replace(/\u00a0/g, ' ');
  }

  /** Waits for `re` in the terminal's text and returns the LAST match. */
  async waitForOutput(title: string, re: RegExp, timeout = 10_000): Promise<RegExpMatchArray> {
    const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
    let last: RegExpMatchArray | undefined;
    await expect
      .poll(
        async () => {
          last = [...(await this.text(title)).matchAll(global)].at(-1);
          return last !== undefined;
        },
        { timeout, message: `terminal output matching ${re}` },
      )
      .toBe(true);
    return last!;
  }

  /** Clicks the tab's close button: an ended tab closes, a live one asks (see closeConfirmDialog). */
  async close(title: string): Promise<void> {
    await this.closeButton(title).click();
  }

  /** The alert a tab shows when a lock cut its session ("Locked by your administrator: <message>"). */
  lockAlert(title: string): Locator {
    return this.region(title).getByRole('alert').filter({ hasText: 'Locked by your administrator' });
  }

  /** "Close the session to <title>?" with "Close session" / "Cancel". */
  closeConfirmDialog(title: string): Locator {
    return this.page.getByRole('dialog', { name: `Close the session to ${title}?`, exact: true });
  }

  /** Closes a tab whose session is live: the close button, then "Close session" in the question. */
  async closeLive(title: string): Promise<void> {
    await this.close(title);
    const dialog = this.closeConfirmDialog(title);
    await expect(dialog).toBeVisible();
    await dialog.getByRole('button', { name: 'Close session', exact: true }).click();
    await expect(dialog).toHaveCount(0);
  }

  /** The "Reopen tabs" banner (a region) and its buttons. */
  get reopenBanner(): Locator {
    return this.page.getByRole('region', { name: 'Reopen tabs', exact: true });
  }

  get reopenButton(): Locator {
    return this.reopenBanner.getByRole('button', { name: 'Reopen tabs', exact: true });
  }

  get notNowButton(): Locator {
    return this.reopenBanner.getByRole('button', { name: 'Not now', exact: true });
  }
}
