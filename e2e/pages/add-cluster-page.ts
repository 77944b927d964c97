// Screen 1, no cluster yet: "Connect to a cluster" with the proxy address form. Since issue 15 the
// form's "Next" first probes the proxy and shows its CA fingerprint (data-testid="ca-fingerprint")
// with the cluster name; only "Trust and add" adds it. A build without that step has "Add cluster".
import { expect, type Locator, type Page } from '@playwright/test';

/** Hex digits only, lowercase: "SHA256:AB:cd…" and "SHA256:abcd…" compare equal. */
function hexOf(fingerprint: string): string {
  return fingerprint
    .replace(/^SHA256:/i, '')
    .replace(/[^0-9a-f]/gi, '')
    .toLowerCase();
}

export class AddClusterPage {
  readonly heading: Locator;
  readonly proxyAddress: Locator;
  readonly addButton: Locator;
  readonly nextButton: Locator;
  readonly caFingerprint: Locator;
  readonly trustAndAddButton: Locator;
  readonly cancelButton: Locator;
  readonly error: Locator;

  constructor(readonly page: Page) {
    this.heading = page.getByRole('heading', { name: 'Connect to a cluster' });
    this.proxyAddress = page.getByRole('textbox', { name: 'Proxy address' });
    this.addButton = page.getByRole('button', { name: 'Add cluster' });
    this.nextButton = page.getByRole('button', { name: 'Next', exact: true });
    this.caFingerprint = page.getByTestId('ca-fingerprint');
    this.trustAndAddButton = page.getByRole('button', { name: 'Trust and add', exact: true });
    this.cancelButton = page.getByRole('button', { name: 'Cancel', exact: true });
    this.error = page.getByRole('alert');
  }

  async expectShown(): Promise<void> {
    await expect(this.heading).toBeVisible();
    await expect(this.proxyAddress).toBeVisible();
  }

  /** Fills the address and submits; with the confirmation step, checks the fingerprint (when given) and trusts it. */
  async add(proxy: string, caPin?: string): Promise<void> {
    await this.proxyAddress.fill(proxy);
    if (!(await this.nextButton.isVisible())) {
      await this.addButton.click();
      return;
    }
    await this.nextButton.click();
    await this.expectFingerprint(caPin);
    await this.trustAndAddButton.click();
  }

  /** The confirmation shows the proxy's CA fingerprint (and it is `caPin` when given). */
  async expectFingerprint(caPin?: string): Promise<void> {
    await expect(this.caFingerprint).toBeVisible();
    if (caPin) {
      await expect.poll(async () => hexOf((await this.caFingerprint.textContent()) ?? '')).toBe(hexOf(caPin));
    }
  }
}
