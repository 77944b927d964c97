// The "This device" screen (docs/device-trust-app.md "Renderer"): what this machine is, its TPM,
// what the cluster knows about it, this session's trust, my devices; enrolling by token or
// auto-enroll with its step list; the administrator's command for an unregistered device;
// diagnostics to copy for the helpdesk. Roles and names first, data-testid for field rows.
import { expect, type Locator, type Page } from '@playwright/test';

/** data-testid="device-field-<key>" rows of the screen. */
export type DeviceFieldKey =
  | 'asset-tag'
  | 'os'
  | 'hostname'
  | 'tpm-state'
  | 'tpm-manufacturer'
  | 'tpm-ek-cert'
  | 'registered'
  | 'enrolled'
  | 'credential-id'
  | 'attestation-type'
  | 'enrolled-at'
  | 'session-trusted'
  | 'session-reason';

export type EnrollStepName = 'check-tpm' | 'create-ak' | 'activate-credential' | 'quote' | 'authenticate' | 'done';
export type EnrollStepState = 'pending' | 'running' | 'done' | 'failed';

/** Everything the enroll step list shows, in order. */
export const ENROLL_STEPS: readonly EnrollStepName[] = [
  'check-tpm',
  'create-ak',
  'activate-credential',
  'quote',
  'authenticate',
  'done',
];

/** Time for a full enrollment on swtpm plus device authentication, on a loaded 2-core machine. */
const ENROLL_TIMEOUT_MS = 30_000;

export class ThisDevicePage {
  readonly main: Locator;
  readonly heading: Locator;
  readonly tokenBox: Locator;
  readonly enrollButton: Locator;
  readonly autoEnrollButton: Locator;
  readonly adminCommand: Locator;
  readonly copyCommandButton: Locator;
  readonly copyAssetTagButton: Locator;
  readonly copyDiagnosticsButton: Locator;
  readonly refreshButton: Locator;
  readonly steps: Locator;
  readonly myDevices: Locator;

  constructor(readonly page: Page) {
    this.main = page.getByRole('main').filter({ has: page.getByRole('heading', { level: 1, name: 'This device' }) });
    this.heading = this.main.getByRole('heading', { level: 1, name: 'This device', exact: true });
    this.tokenBox = this.main.getByRole('textbox', { name: 'Enroll token', exact: true });
    this.enrollButton = this.main.getByRole('button', { name: 'Enroll', exact: true });
    this.autoEnrollButton = this.main.getByRole('button', { name: 'Enroll this device', exact: true });
    this.adminCommand = this.main.getByTestId('admin-command');
    this.copyCommandButton = this.main.getByRole('button', { name: 'Copy command', exact: true });
    this.copyAssetTagButton = this.main.getByRole('button', { name: 'Copy asset tag', exact: true });
    this.copyDiagnosticsButton = this.main.getByRole('button', { name: 'Copy diagnostics', exact: true });
    this.refreshButton = this.main.getByRole('button', { name: 'Refresh', exact: true });
    this.steps = this.main.getByRole('list', { name: 'Enrollment steps', exact: true });
    this.myDevices = this.main.getByRole('table', { name: 'My devices', exact: true });
  }

  async expectShown(): Promise<void> {
    await expect(this.heading).toBeVisible();
  }

  /** A section: "Device", "TPM", "Cluster <name>", "This session", "My devices". */
  section(name: string): Locator {
    return this.main.getByRole('region', { name, exact: true });
  }

  clusterSection(clusterName: string): Locator {
    return this.section(`Cluster ${clusterName}`);
  }

  /** A field row (its label and value). */
  field(key: DeviceFieldKey): Locator {
    return this.main.getByTestId(`device-field-${key}`);
  }

  /** A field row's value alone (the row is a term/definition pair). */
  value(key: DeviceFieldKey): Locator {
    return this.field(key).getByRole('definition');
  }

  /** The enrollment step list's item for `step` (its data-state says pending|running|done|failed). */
  step(step: EnrollStepName): Locator {
    return this.steps.getByRole('listitem').nth(ENROLL_STEPS.indexOf(step));
  }

  /** The worded failure (what went wrong and the next step) under the step list or the enroll form. */
  get failure(): Locator {
    return this.main.getByRole('alert');
  }

  /** Types the helpdesk's token and presses Enroll. */
  async enrollWithToken(token: string): Promise<void> {
    await this.tokenBox.fill(token);
    await this.enrollButton.click();
  }

  async autoEnroll(): Promise<void> {
    await this.autoEnrollButton.click();
  }

  /** Every step done, in order (the list shows all six states as data-state). */
  async expectEnrolled(): Promise<void> {
    await expect(this.step('done')).toHaveAttribute('data-state', 'done', { timeout: ENROLL_TIMEOUT_MS });
    for (const name of ENROLL_STEPS) await expect(this.step(name)).toHaveAttribute('data-state', 'done');
    await expect(this.failure).toHaveCount(0);
  }

  /** The enrollment failed (at `step` when given) with an alert matching `wording`. */
  async expectEnrollFailed(wording: RegExp | string, step?: EnrollStepName): Promise<void> {
    const failed = step ? this.step(step) : this.steps.locator('[data-state="failed"]');
    await expect(failed).toHaveAttribute('data-state', 'failed', { timeout: ENROLL_TIMEOUT_MS });
    await expect(this.failure).toContainText(wording);
  }

  /** My devices' row of this machine (it contains "This device"). */
  get thisDeviceRow(): Locator {
    return this.myDevices.getByRole('row').filter({ hasText: 'This device' });
  }

  myDeviceRow(assetTag: string): Locator {
    return this.myDevices.getByRole('row').filter({ hasText: assetTag });
  }

  async refresh(): Promise<void> {
    await this.refreshButton.click();
  }
}
