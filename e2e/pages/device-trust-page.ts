// Device trust in the app: the top bar's indicator ("Device trust: trusted | not enrolled |
// not trusted | locked") with its popover, and a terminal tab's "why and how to fix" panel after the
// node refused the session as coming from an unauthorized device.
import { expect, type Locator, type Page } from '@playwright/test';

export type IndicatorLabel = 'trusted' | 'not enrolled' | 'not trusted' | 'locked';

export class DeviceTrustPage {
  readonly anyIndicator: Locator;

  constructor(readonly page: Page) {
    this.anyIndicator = page.getByRole('banner').getByRole('button', { name: /^Device trust: / });
  }

  indicator(label: IndicatorLabel): Locator {
    return this.page.getByRole('banner').getByRole('button', { name: `Device trust: ${label}`, exact: true });
  }

  /** The popover the indicator opens (a non-modal dialog headed "Device <state>"). */
  popover(label: IndicatorLabel): Locator {
    return this.page.getByRole('dialog', { name: `Device ${label}`, exact: true });
  }

  async expectIndicator(label: IndicatorLabel): Promise<void> {
    await expect(this.indicator(label)).toBeVisible();
  }

  async openPopover(label: IndicatorLabel): Promise<Locator> {
    await this.indicator(label).click();
    const pop = this.popover(label);
    await expect(pop).toBeVisible();
    return pop;
  }

  /** Closes it with Escape; focus returns to the indicator. */
  async closePopover(label: IndicatorLabel): Promise<void> {
    await this.page.keyboard.press('Escape');
    await expect(this.popover(label)).toHaveCount(0);
    await expect(this.indicator(label)).toBeFocused();
  }

  /** A popover row's value by its term ("Asset tag", "Credential ID", "Attestation", ...). */
  row(popover: Locator, term: string): Locator {
    return popover
      .locator('.device-trust-row')
      .filter({ has: this.page.getByText(term, { exact: true }) })
      .locator('dd');
  }

  /** The refusal in a terminal region: the alert and its "why and how to fix" panel. */
  refusal(terminalRegion: Locator): { alert: Locator; panel: Locator } {
    const alert = terminalRegion.getByRole('alert');
    return { alert, panel: alert.getByRole('region', { name: 'Why this happened and how to fix it' }) };
  }
}
