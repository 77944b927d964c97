// Playwright e2e suite (e2e/): one worker (the tests share one demo cluster per worker and start
// an app per test), no retries in CI, a list on the console and an HTML report with the
// screenshots. The fixture (e2e/fixtures.ts) launches Electron or the browser host + Chromium.
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  outputDir: 'test-results',
  globalSetup: './e2e/global-setup.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['html', { outputFolder: 'playwright-report', open: 'never' }]],
  use: {
    actionTimeout: 15_000,
  },
});
