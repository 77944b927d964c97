// Starts the app under test: the Electron app when its binary is installed, otherwise the browser
// host (the same main services in plain Node) opened in Debian's Chromium. Either way the test gets
// a Playwright Page showing the renderer, plus the main side's and the renderer's logs.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  _electron,
  chromium,
  type Browser,
  type BrowserContext,
  type ElectronApplication,
  type Page,
} from '@playwright/test';
import { ROOT } from '../../test-support/cluster-process.ts';

export const CHROMIUM_PATH = process.env.GATEHOUSE_E2E_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
export const VIEWPORT = { width: 1280, height: 800 };

/**
 * The Electron executable when `npm install` downloaded it. Read from electron's path.txt, never
 * by require('electron'): that module starts a download when the binary is missing.
 */
export function electronExecutable(): string | undefined {
  const pkg = join(ROOT, 'node_modules', 'electron');
  const pathFile = join(pkg, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const exe = join(pkg, 'dist', readFileSync(pathFile, 'utf8').trim());
  return existsSync(exe) ? exe : undefined;
}

export type AppMode = 'electron' | 'browser';

/** GATEHOUSE_E2E_MODE forces a mode (and then fails when it cannot run); default: Electron if installed. */
export function appMode(): AppMode {
  const forced = process.env.GATEHOUSE_E2E_MODE;
  if (forced === 'electron' || forced === 'browser') return forced;
  if (forced) throw new Error(`GATEHOUSE_E2E_MODE must be "electron" or "browser", not "${forced}"`);
  return electronExecutable() ? 'electron' : 'browser';
}

/** Why this machine cannot run the e2e suite in `mode`, or undefined when it can. */
export function missingPrerequisite(mode: AppMode): string | undefined {
  if (mode === 'electron') {
    if (!electronExecutable()) {
      return 'GATEHOUSE_E2E_MODE=electron but the Electron binary is not installed (node_modules/electron/path.txt); run "npx install-electron" or use the browser host';
    }
    return undefined;
  }
  if (!existsSync(CHROMIUM_PATH)) {
    return `Chromium is missing at ${CHROMIUM_PATH}: the e2e suite drives the browser host with it. Install it with "apt-get install -y chromium" (or set GATEHOUSE_E2E_CHROMIUM).`;
  }
  return undefined;
}

export interface LaunchedApp {
  mode: AppMode;
  /** The app data dir (GATEHOUSE_HOME): profiles, keys and certificates land here. */
  home: string;
  page: Page;
  /** stdout+stderr of the Electron main process or the browser host. */
  mainLogs(): string;
  /** The renderer's console and uncaught errors. */
  rendererLogs(): string;
  /** Playwright trace of the run (browser mode), saved to `path` when asked. */
  saveTrace(path: string): Promise<boolean>;
  close(): Promise<void>;
}

function collectRendererLogs(page: Page, lines: string[]): void {
  page.on('console', (m) => lines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`[pageerror] ${e.stack ?? e.message}`));
  page.on('crash', () => lines.push('[crash] the renderer crashed'));
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The browser host on a free port with `home` as app data; resolves with the URL it prints.
 * `args`: more host options (e.g. --add-cluster/--ca-pin, as `npm start` passes them).
 */
export async function startHost(
  home: string,
  log: { text: string },
  env: Record<string, string>,
  args: readonly string[] = [],
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src-main/host/main.ts'), '--home', home, '--port', '0', ...args],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env, GATEHOUSE_HOME: home } },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the browser host printed no URL within 30 s:\n${log.text}`)),
      30_000,
    );
    const onData = (d: Buffer) => {
      log.text += d.toString();
      const m = /Gatehouse app: (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(log.text);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the browser host exited with ${code} before serving:\n${log.text}`));
    });
  });
  return { child, url };
}

/** `env`: extra environment for the main side (e.g. GATEHOUSE_TPM_TCTI of a test's swtpm). */
export async function launchBrowserHostApp(
  home: string,
  browser: Browser,
  env: Record<string, string> = {},
): Promise<LaunchedApp> {
  const log = { text: '' };
  const { child, url } = await startHost(home, log, env);
  const rendererLines: string[] = [];
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ viewport: VIEWPORT });
    await context.tracing.start({ screenshots: true, snapshots: true });
    const page = await context.newPage();
    collectRendererLogs(page, rendererLines);
    await page.goto(url);
    const ctx = context;
    return {
      mode: 'browser',
      home,
      page,
      mainLogs: () => log.text,
      rendererLogs: () => rendererLines.join('\n'),
      async saveTrace(path) {
        await ctx.tracing.stop({ path });
        return true;
      },
      async close() {
        await ctx.close().catch(() => undefined);
        await stopProcess(child);
      },
    };
  } catch (e) {
    await context?.close().catch(() => undefined);
    await stopProcess(child);
    throw e;
  }
}

export async function launchElectronApp(home: string, env: Record<string, string> = {}): Promise<LaunchedApp> {
  const executablePath = electronExecutable();
  if (!executablePath) throw new Error(missingPrerequisite('electron'));
  const log = { text: '' };
  const rendererLines: string[] = [];
  const app: ElectronApplication = await _electron.launch({
    executablePath,
    // Chromium refuses to run as root with its sandbox on (CI containers); the renderer stays
    // sandboxed in the JS sense (sandboxed preload, no Node) either way.
    args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), join(ROOT, 'dist/electron/main.cjs')],
    cwd: ROOT,
    env: { ...process.env, ...env, GATEHOUSE_HOME: home } as Record<string, string>,
  });
  const proc = app.process();
  proc.stdout?.on('data', (d: Buffer) => (log.text += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (log.text += d.toString()));
  try {
    const page = await app.firstWindow();
    collectRendererLogs(page, rendererLines);
    await page.setViewportSize(VIEWPORT);
    return {
      mode: 'electron',
      home,
      page,
      mainLogs: () => log.text,
      rendererLogs: () => rendererLines.join('\n'),
      saveTrace: async () => false,
      async close() {
        await app.close().catch(() => proc.kill('SIGKILL'));
      },
    };
  } catch (e) {
    await app.close().catch(() => proc.kill('SIGKILL'));
    throw e;
  }
}

export async function launchChromium(): Promise<Browser> {
  const missing = missingPrerequisite('browser');
  if (missing) throw new Error(missing);
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
