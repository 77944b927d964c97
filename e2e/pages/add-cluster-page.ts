// Screen 1, no cluster yet: "Connect to a cluster" with the proxy address form; "Next" probes the
// proxy and shows "Trust <cluster>?" with its CA fingerprint, "Trust and add" / "Cancel".
import { expect, type Locator, type Page } from '@playwright/test';

/** `gatectl status`'s "SHA256:<hex>" as the app shows it: colon-separated upper-case pairs. */
export function appFingerprint(caPin: string): string {
  const hex = caPin.replace(/^SHA256:/, '').toUpperCase();
  return hex.match(/.{2}/g)!.join(':');
}

export class AddClusterPage {
  readonly heading: Locator;
  readonly proxyAddress: Locator;
  readonly nextButton: Locator;
  readonly error: Locator;
  /** The confirmation step: the probed CA fingerprint and its two buttons. */
  readonly fingerprint: Locator;
  readonly trustButton: Locator;
  readonly cancelButton: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Connect to a cluster' });
    this.proxyAddress = page.getByRole('textbox', { name: 'Proxy address' });
    this.nextButton = page.getByRole('button', { name: 'Next', exact: true });
    this.error = page.getByRole('alert');
    this.fingerprint = page.getByTestId('ca-fingerprint');
    this.trustButton = page.getByRole('button', { name: 'Trust and add', exact: true });
    this.cancelButton = page.getByRole('button', { name: 'Cancel', exact: true });
  }

  async expectShown(): Promise<void> {
    await expect(this.heading).toBeVisible();
    await expect(this.proxyAddress).toBeVisible();
  }

  confirmHeading(clusterName: string): Locator {
    return this.page.getByRole('heading', { name: `Trust ${clusterName}?`, exact: true });
  }

  /** Enters the address and presses "Next": the confirmation (or an error) follows. */
  async next(proxy: string): Promise<void> {
    await this.proxyAddress.fill(proxy);
    await this.nextButton.click();
  }

  /** The whole add: address, "Next", the fingerprint shown (it is `caPin`'s when given), "Trust and add". */
  async add(proxy: string, caPin?: string): Promise<void> {
    await this.next(proxy);
    await expect(this.fingerprint).toHaveText(caPin ? appFingerprint(caPin) : /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    await this.trustButton.click();
  }
}
