// The terminal pages of `npm run bench:app` (bench/app.ts): the app logged in through its UI with
// a terminal open, and the stock-ssh baseline page, each with the in-page probe
// (app-probes.ts TERMINAL_PROBE) that times a keystroke or a flood where it happens.
import type { Browser, Page } from '@playwright/test';
import { PROMPT, SET_PROMPT, TERMINAL_PROBE } from './app-probes.ts';

export const VIEWPORT = { width: 1280, height: 800 };

/** Who logs in through the app and where the terminal opens. */
export interface AppLogin {
  user: string;
  password: string;
  node: string;
  login: string;
}

export interface Probe {
  sent: number;
  recv: number;
  frame: number;
  shown: number;
  wsChars: number;
  wsLast: number;
  timedOut?: boolean;
}

export async function arm(page: Page, kind: 'endsWith' | 'includes', text: string, echo?: string): Promise<void> {
  await page.evaluate(
    `window.__bench.arm(${JSON.stringify(kind)}, ${JSON.stringify(text)}, ${JSON.stringify(echo ?? null)})`,
  );
}

export async function probeResult(page: Page, what: string, timeoutMs = 10_000): Promise<Probe> {
  const r = await page.evaluate<Probe>(`window.__bench.wait(${timeoutMs})`);
  if (r.timedOut) throw new Error(`the terminal did not show ${what} within ${timeoutMs} ms`);
  return r;
}

/** Sets the known prompt in a page's terminal (focused) and waits for it. */
export async function setPrompt(page: Page): Promise<void> {
  await arm(page, 'endsWith', PROMPT.trimEnd());
  await page.keyboard.type(SET_PROMPT);
  await page.keyboard.press('Enter');
  await probeResult(page, 'the prompt');
}

/** The baseline page (stock ssh in the app's xterm path), with the probe installed. */
export async function openBaselineTerminal(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  await context.addInitScript({ content: TERMINAL_PROBE });
  const page = await context.newPage();
  await page.goto(url);
  await page.locator('.xterm-rows').filter({ hasText: /\S/ }).waitFor({ timeout: 15_000 });
  await page.getByRole('region', { name: 'Terminal baseline', exact: true }).click();
  await setPrompt(page);
  return page;
}

/** Logs in through the UI and opens a terminal; returns the page with the probe installed. */
export async function openAppTerminal(browser: Browser, url: string, who: AppLogin): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  await context.addInitScript({ content: TERMINAL_PROBE });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByRole('textbox', { name: 'User name', exact: true }).fill(who.user);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor({ timeout: 30_000 });
  await page.getByRole('combobox', { name: `Log in as on ${who.node}`, exact: true }).selectOption(who.login);
  await page.getByRole('button', { name: `Connect to ${who.node}`, exact: true }).click();
  const region = page.getByRole('region', { name: `Terminal ${who.login}@${who.node}`, exact: true });
  await region.waitFor({ timeout: 15_000 });
  await page.locator('.xterm-rows').filter({ hasText: /\S/ }).waitFor({ timeout: 15_000 });
  await region.click();
  await setPrompt(page);
  return page;
}
