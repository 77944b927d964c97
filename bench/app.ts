// npm run bench:app — how the desktop app (browser host + renderer in Chromium, the way the e2e
// suite runs it) compares with direct baselines measured in the same run on the same machine:
//   launch:    spawn of the host (cluster pre-added with --add-cluster/--ca-pin) → URL printed →
//              navigation committed in a fresh context → "User name" field rendered, visible and
//              enabled; p50/p95 of 10, new and known cluster, vs a plain node http server serving
//              one labelled <input> (bench/app-launch.ts; BENCH_APP_ONLY=launch stops after it)
//   keystroke: from the keydown event reaching the page (capture listener, before xterm) to the
//              MutationObserver callback after xterm's DOM renderer wrote the echoed character into
//              its row (before the browser paints), through term-input frame → host → proxy → node
//              → echo → term-data frame; timed in the page, so Playwright's round trips stay out.
//              p50/p99 of 200, vs stock `ssh -tt` → stock sshd in a node-pty (write one char to the
//              pty → its echo read back; no terminal emulator); `gate ssh` in a pty as a reference
//              The bar: added ms at p99 over `gate ssh`, for the echo frame reaching the renderer.
//   flood:     `head -c 50M /dev/urandom | base64; echo <marker>` in the app's terminal, keydown of
//              Enter → marker in xterm's rows, vs stock `ssh -tt` in THE SAME XTERM PATH (a page
//              with the app's xterm build and output pump fed by a WebSocket → node-pty, binary
//              frames: bench/xterm-baseline.ts), plus stock ssh / `gate ssh` in a bare node-pty
//              (write of Enter → marker read) for reference; CPU seconds per process group for each
// Prints figures and ratios. Not a test: it asserts nothing, but stops with an error when a part
// (Chromium, sshd, the renderer build, a screen) is missing.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser, type Page } from '@playwright/test';
import { TestCluster } from '../src-cluster/integration/harness.ts';
import { startSshd } from '../scripts/integration/openssh-harness.ts';
import { startXtermBaseline } from './xterm-baseline.ts';
import { hostKeystrokes } from './app-host-keys.ts';
import { requireTool, tempDir } from '../test-support/sshcert-testkit.ts';
import { benchLaunch } from './app-launch.ts';
import { ProfileStore } from '../src-main/core/index.ts';
import {
  PROMPT,
  PtyShell,
  ROOT,
  SET_PROMPT,
  TERMINAL_PROBE,
  FRAME_WAITS,
  cpuByGroup,
  cpuSpent,
  buildHostBundle,
  ensureRendererBuilt,
  median,
  pct,
  spawnAndWaitForUrl,
  stopChild,
} from './app-probes.ts';

const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 10);
const KEYS = Number(process.env.BENCH_KEYS ?? 200);
const FLOOD_MIB = Number(process.env.BENCH_FLOOD_MIB ?? 50);
const FLOOD_TIMEOUT_MS = Number(process.env.BENCH_FLOOD_TIMEOUT_MS ?? 150_000);
const CHROMIUM = process.env.GATEHOUSE_E2E_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const VIEWPORT = { width: 1280, height: 800 };
const LOGIN = userInfo().username;
const USER = 'bench';
const PASSWORD = 'bench-password-1';
const NODE = 'bench';
const MARKER = 'BENCH-DONE-42';
const FLOOD_CMD = `head -c ${FLOOD_MIB}M /dev/urandom | base64; echo BENCH-DONE-$((6*7))`;
/** base64 of FLOOD_MIB MiB in 76-column lines, each ending in \r\n on a tty, plus the marker line. */
const FLOOD_BYTES = Math.ceil((FLOOD_MIB * 1048576) / 3) * 4 + 2 * Math.ceil(((FLOOD_MIB * 1048576) / 3) * (4 / 76));

interface Target {
  proxy: string;
  caPin: string;
}

const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;

/**
 * The host measured: the bundle `npm start` runs (dist/cli/app-host.mjs, rebuilt at start);
 * BENCH_HOST_ENTRY: node arguments (space-separated) for another one, e.g.
 * "--import tsx src-main/host/main.ts" for the sources.
 */
const HOST_ENTRY = process.env.BENCH_HOST_ENTRY ? process.env.BENCH_HOST_ENTRY.split(' ') : [buildHostBundle()];
// As `npm start` runs the host: with Node's compile cache (scripts/start-app.mjs); a cache of the
// bench's own, so the first launch of a run compiles and the rest reuse it, as a user's do.
process.env.NODE_COMPILE_CACHE ??= join(ROOT, '.bench', 'node-compile-cache');

function hostArgs(home: string, t: Target): string[] {
  return [...HOST_ENTRY, '--home', home, '--port', '0', '--add-cluster', t.proxy, '--ca-pin', t.caPin];
}

interface Probe {
  sent: number;
  recv: number;
  frame: number;
  shown: number;
  wsChars: number;
  wsLast: number;
  timedOut?: boolean;
}

async function arm(page: Page, kind: 'endsWith' | 'includes', text: string, echo?: string): Promise<void> {
  await page.evaluate(
    `window.__bench.arm(${JSON.stringify(kind)}, ${JSON.stringify(text)}, ${JSON.stringify(echo ?? null)})`,
  );
}

async function probeResult(page: Page, what: string, timeoutMs = 10_000): Promise<Probe> {
  const r = await page.evaluate<Probe>(`window.__bench.wait(${timeoutMs})`);
  if (r.timedOut) throw new Error(`the terminal did not show ${what} within ${timeoutMs} ms`);
  return r;
}

/** Sets the known prompt in a page's terminal (focused) and waits for it. */
async function setPrompt(page: Page): Promise<void> {
  await arm(page, 'endsWith', PROMPT.trimEnd());
  await page.keyboard.type(SET_PROMPT);
  await page.keyboard.press('Enter');
  await probeResult(page, 'the prompt');
}

/** The baseline page (stock ssh in the app's xterm path), with the probe installed. */
async function openBaselineTerminal(browser: Browser, url: string): Promise<Page> {
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
async function openAppTerminal(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  await context.addInitScript({ content: TERMINAL_PROBE });
  const page = await context.newPage();
  await page.goto(url);
  await page.getByRole('textbox', { name: 'User name', exact: true }).fill(USER);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.getByRole('heading', { name: 'Servers', exact: true }).waitFor({ timeout: 30_000 });
  await page.getByRole('combobox', { name: `Log in as on ${NODE}`, exact: true }).selectOption(LOGIN);
  await page.getByRole('button', { name: `Connect to ${NODE}`, exact: true }).click();
  const region = page.getByRole('region', { name: `Terminal ${LOGIN}@${NODE}`, exact: true });
  await region.waitFor({ timeout: 15_000 });
  await page.locator('.xterm-rows').filter({ hasText: /\S/ }).waitFor({ timeout: 15_000 });
  await region.click();
  await setPrompt(page);
  return page;
}

interface Keys {
  shown: number[];
  sent: number[];
  recv: number[];
  frame: number[];
}

/** KEYS letters, 40 to a `#` comment line, each timed from keydown to its echo in xterm's rows. */
async function appKeystrokes(page: Page): Promise<Keys> {
  const out: Keys = { shown: [], sent: [], recv: [], frame: [] };
  let line = '';
  for (let i = 0; i < KEYS; i++) {
    if (line === '') {
      await arm(page, 'endsWith', '#');
      await page.keyboard.type('#');
      await probeResult(page, 'the echo of #');
    }
    const ch = String.fromCharCode(97 + (i % 26));
    line += ch;
    await arm(page, 'endsWith', `#${line}`, ch);
    await page.keyboard.type(ch);
    const r = await probeResult(page, `the echo of ${ch}`);
    out.shown.push(r.shown);
    out.sent.push(r.sent);
    out.recv.push(r.recv);
    out.frame.push(r.frame);
    if (line.length === 40 || i === KEYS - 1) {
      await arm(page, 'endsWith', PROMPT.trimEnd());
      await page.keyboard.press('Enter');
      await probeResult(page, 'the prompt');
      line = '';
    }
  }
  return out;
}

/** The same keystrokes into a shell in a local pty: write one char → its echo read back. */
async function ptyKeystrokes(shell: PtyShell): Promise<number[]> {
  const out: number[] = [];
  let line = '';
  for (let i = 0; i < KEYS; i++) {
    if (line === '') await shell.writeAndWait('#', (_t, chunk) => chunk.includes('#'));
    const ch = String.fromCharCode(97 + (i % 26));
    line += ch;
    out.push(await shell.writeAndWait(ch, (_t, chunk) => chunk.includes(ch)));
    if (line.length === 40 || i === KEYS - 1) {
      await shell.writeAndWait('\r', (tail) => tail.includes(PROMPT));
      line = '';
    }
  }
  return out;
}

async function appFlood(page: Page): Promise<Probe> {
  await arm(page, 'endsWith', FLOOD_CMD);
  await page.keyboard.type(FLOOD_CMD);
  await probeResult(page, 'the echo of the command');
  await arm(page, 'includes', MARKER);
  await page.keyboard.press('Enter');
  return page.evaluate<Probe>(`window.__bench.wait(${FLOOD_TIMEOUT_MS})`);
}

/** Names the processes whose CPU the flood figures report. */
function processGroup(cmd: string): string | undefined {
  if (cmd.includes('src-main/host/main.ts') || cmd.includes('app-host.mjs')) return 'app host';
  if (/gatehouse\.(mjs|ts) start/.test(cmd)) return 'cluster (proxy+node)';
  if (cmd.includes('--type=renderer')) return 'Chromium renderer';
  if (cmd.includes('chromium')) return 'Chromium browser/GPU/network';
  if (cmd.includes('bin/gate.mjs')) return 'gate';
  if (cmd.startsWith('/usr/sbin/sshd') || cmd.startsWith('sshd')) return 'sshd';
  if (cmd.startsWith('ssh ') || cmd.startsWith('/usr/bin/ssh ')) return 'ssh';
  return undefined;
}

function caPinOf(cluster: TestCluster): string {
  const status = cluster.gatectl(['status']);
  const m = /tls_host\s+(SHA256:[0-9a-f]{64})/.exec(status.stdout);
  if (status.status !== 0 || !m)
    throw new Error(`no tls_host CA fingerprint in gatectl status:\n${status.stdout}${status.stderr}`);
  return m[1]!;
}

async function main() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium is missing at ${CHROMIUM}: apt-get install -y chromium`);
  const sshBin = requireTool('ssh');
  ensureRendererBuilt();
  const cluster = new TestCluster({ nodeName: NODE });
  const tmp = tempDir('gatehouse-bench-app-');
  let sshd: Awaited<ReturnType<typeof startSshd>> | undefined;
  let browser: Browser | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];
  try {
    await cluster.start();
    const login = cluster.addUserAndLogin(USER, PASSWORD, 'access', LOGIN);
    if (login.status !== 0) throw new Error(`gate login failed: ${login.stderr}`);
    const userCa = cluster.gatectl(['auth', 'export', '--type=user']);
    if (userCa.status !== 0) throw new Error(userCa.stderr);
    sshd = await startSshd(tmp, userCa.stdout.trim());
    const target = { proxy: cluster.proxyAddr, caPin: caPinOf(cluster) };
    // The key and certificate `gate login` stored serve the stock ssh baseline.
    const { key, sshCert } = new ProfileStore(cluster.home).paths(cluster.proxyAddr, USER);
    const sshArgs = ['-tt', '-p', String(sshd.port), '-i', key, '-o', `CertificateFile=${sshCert}`];
    for (const o of ['StrictHostKeyChecking=no', 'UserKnownHostsFile=/dev/null', 'BatchMode=yes', 'LogLevel=ERROR'])
      sshArgs.push('-o', o);
    sshArgs.push(`${LOGIN}@127.0.0.1`);
    const gateArgs = [join(ROOT, 'bin/gate.mjs'), 'ssh', `${LOGIN}@${NODE}`];
    const gateEnv = { ...process.env, GATEHOUSE_HOME: cluster.home };

    const t = performance.now();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    const browserLaunch = performance.now() - t;

    // 1. Launch to an interactive login form (bench/app-launch.ts).
    console.log(`Launch to an interactive "User name" field, ${LAUNCHES} rounds (fresh browser context each):`);
    console.log(`  (Chromium itself, launched once before: ${ms(browserLaunch)}; not counted below)`);
    await benchLaunch(browser, (home) => hostArgs(home, target), LAUNCHES);
    if (process.env.BENCH_APP_ONLY === 'launch') return;

    // 2 + 3 need a logged-in app with an open terminal, and shells in local ptys.
    const home = mkdtempSync(join(tmpdir(), 'gatehouse-bench-app-'));
    const host = await spawnAndWaitForUrl(hostArgs(home, target), /Gatehouse app: (\S+)/);
    cleanups.push(async () => {
      await stopChild(host.child);
      rmSync(home, { recursive: true, force: true });
    });
    const page = await openAppTerminal(browser, host.url);
    const ssh = new PtyShell(sshBin, sshArgs);
    cleanups.push(() => ssh.close());
    const gate = new PtyShell(process.execPath, gateArgs, gateEnv);
    cleanups.push(() => gate.close());
    await ssh.ready();
    await gate.ready();

    const sshKeys = await ptyKeystrokes(ssh);
    const gateKeys = await ptyKeystrokes(gate);
    const appKeys = await appKeystrokes(page);
    const hostKeys = await hostKeystrokes(host.url, { proxy: target.proxy, node: NODE, login: LOGIN, keys: KEYS });
    const frameWaits = await page.evaluate<number[]>(FRAME_WAITS(50));
    const row = (name: string, xs: number[]) =>
      console.log(`  ${name.padEnd(46)} p50 ${ms(median(xs)).padStart(8)}   p99 ${ms(pct(xs, 99)).padStart(8)}`);
    console.log(`\nKeystroke to echo, ${KEYS} keystrokes each:`);
    row('stock ssh -tt → stock sshd (pty write → echo)', sshKeys);
    row('gate ssh → proxy → node (pty write → echo)', gateKeys);
    row('host alone: input frame → echo frame (ws client)', hostKeys);
    row('app: keydown → echo frame received (renderer)', appKeys.recv);
    row('app: keydown → echo in xterm DOM rows', appKeys.shown);
    row('  of which keydown → input frame sent', appKeys.sent);
    row('  of which keydown → next animation frame', appKeys.frame);
    row('reference: rAF request → callback in that page', frameWaits);
    console.log(
      `  ratio app/ssh: p50 ${ratio(median(appKeys.shown), median(sshKeys))}, p99 ${ratio(pct(appKeys.shown, 99), pct(sshKeys, 99))}` +
        `   (gate/ssh: p50 ${ratio(median(gateKeys), median(sshKeys))})`,
    );
    const added = (xs: number[]) => ms(pct(xs, 99) - pct(gateKeys, 99));
    console.log(
      `  added at p99 over gate ssh: echo frame received ${added(appKeys.recv)}, echo in xterm rows ${added(appKeys.shown)}` +
        ` (host alone: ${added(hostKeys)})`,
    );

    // 3. Flood.
    const mib = FLOOD_BYTES / 1048576;
    console.log(`\nTerminal throughput: \`${FLOOD_CMD}\` (~${mib.toFixed(1)} MiB on the tty), Enter → marker shown:`);
    let cpu = cpuByGroup(processGroup);
    const sshFlood = await ssh.writeAndWait(`${FLOOD_CMD}\r`, (tail) => tail.includes(MARKER), FLOOD_TIMEOUT_MS);
    const sshCpu = cpuSpent(cpu, (cpu = cpuByGroup(processGroup)));
    const gateFlood = await gate.writeAndWait(`${FLOOD_CMD}\r`, (tail) => tail.includes(MARKER), FLOOD_TIMEOUT_MS);
    const gateCpu = cpuSpent(cpu, (cpu = cpuByGroup(processGroup)));
    const rate = (msec: number) => `${(mib / (msec / 1000)).toFixed(1)} MiB/s`;
    console.log(`  stock ssh -tt → stock sshd (node-pty)         ${(sshFlood / 1000).toFixed(1)} s  ${rate(sshFlood)}`);
    console.log(`      CPU: ${sshCpu}`);
    console.log(
      `  gate ssh → proxy → node (node-pty)            ${(gateFlood / 1000).toFixed(1)} s  ${rate(gateFlood)}`,
    );
    console.log(`      CPU: ${gateCpu}`);
    // Stock ssh in the app's xterm path: the baseline of the ratio.
    const xtermBaseline = await startXtermBaseline(sshBin, sshArgs);
    cleanups.push(() => xtermBaseline.close());
    const basePage = await openBaselineTerminal(browser, xtermBaseline.url);
    cpu = cpuByGroup(processGroup);
    const baseFlood = await appFlood(basePage);
    const baseCpu = cpuSpent(cpu, (cpu = cpuByGroup(processGroup)));
    if (baseFlood.timedOut) throw new Error(`the baseline page did not show the marker within ${FLOOD_TIMEOUT_MS} ms`);
    console.log(
      `  baseline: stock ssh -tt in the same xterm path ${(baseFlood.shown / 1000).toFixed(1)} s  ${rate(baseFlood.shown)}`,
    );
    console.log(`      CPU: ${baseCpu}`);
    await basePage.context().close();
    // After the close: the baseline page's renderer process is gone and must not count below.
    cpu = cpuByGroup(processGroup);
    const flood = await appFlood(page);
    const appCpu = cpuSpent(cpu, cpuByGroup(processGroup));
    if (flood.timedOut) {
      console.log(
        `  app: marker NOT shown within ${FLOOD_TIMEOUT_MS / 1000} s; ${(flood.wsChars / 1048576).toFixed(1)} MiB of frames had arrived`,
      );
    } else {
      console.log(
        `  app: Enter → marker in xterm rows              ${(flood.shown / 1000).toFixed(1)} s  ${rate(flood.shown)}` +
          `   (frames: ${(flood.wsChars / 1048576).toFixed(1)} MiB, last at ${(flood.wsLast / 1000).toFixed(1)} s)`,
      );
      console.log(
        `  ratio app/baseline (time): ${(flood.shown / baseFlood.shown).toFixed(2)}x` +
          `   (app/bare ssh: ${ratio(flood.shown, sshFlood)}, gate/bare ssh: ${ratio(gateFlood, sshFlood)})`,
      );
    }
    console.log(`      CPU (app run): ${appCpu}`);
  } finally {
    for (const c of cleanups.reverse()) await c();
    await browser?.close();
    sshd?.stop();
    await cluster.destroy();
    tmp.cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${(e as Error).stack ?? (e as Error).message}`);
  process.exit(1);
});
