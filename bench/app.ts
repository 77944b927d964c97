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
//              pty → its echo read back; no terminal emulator); `gate ssh` in a pty as a reference,
//              and the browser's floor: the same keydown → binary frame → echo path in a bare page
//              with a `ws` echo server in the same Chromium (bench/app-keystroke.ts)
//              The bar: added ms at p99 over `gate ssh`, for the echo frame reaching the renderer.
//   flood:     `head -c 50M /dev/urandom | base64; echo <marker>` in the app's terminal, keydown of
//              Enter → marker in xterm's rows, vs stock `ssh -tt` in THE SAME XTERM PATH (a page
//              with the app's xterm build and output pump fed by a WebSocket → node-pty, binary
//              frames: bench/xterm-baseline.ts), plus stock ssh / `gate ssh` in a bare node-pty
//              (write of Enter → marker read) for reference; CPU seconds per process group for each
//              (bench/app-flood.ts)
//   Ctrl+C:    `yes` for 3 s in the terminal, then Ctrl+C: its keydown → the prompt as the last
//              line in xterm's rows, vs stock `ssh -tt` in the same xterm path; ssh / `gate ssh` in
//              a node-pty for reference (bench/app-interrupt.ts; BENCH_APP_ONLY=interrupt stops
//              after it, before the flood row)
// BENCH_CHROMIUM_ARGS adds Chromium flags (space-separated) to both the app's and the floor's
// runs, e.g. "--disable-frame-rate-limit" to see how much of the keystroke figure is frame pacing.
// Prints figures and ratios. Not a test: it asserts nothing, but stops with an error when a part
// (Chromium, sshd, the renderer build, a screen) is missing.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { chromium, type Browser } from '@playwright/test';
import { TestCluster } from '../src-cluster/integration/harness.ts';
import { startSshd } from '../scripts/integration/openssh-harness.ts';
import { requireTool, tempDir } from '../test-support/sshcert-testkit.ts';
import { benchLaunch } from './app-launch.ts';
import { benchKeystrokes } from './app-keystroke.ts';
import { benchFlood } from './app-flood.ts';
import { benchInterrupt } from './app-interrupt.ts';
import { openAppTerminal, openBaselineTerminal } from './app-terminal-page.ts';
import { startXtermBaseline } from './xterm-baseline.ts';
import { ProfileStore } from '../src-main/core/index.ts';
import { PtyShell, ROOT, buildHostBundle, ensureRendererBuilt, spawnAndWaitForUrl, stopChild } from './app-probes.ts';

const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 10);
const KEYS = Number(process.env.BENCH_KEYS ?? 200);
const CHROMIUM = process.env.GATEHOUSE_E2E_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  ...(process.env.BENCH_CHROMIUM_ARGS ?? '').split(' ').filter(Boolean),
];
const LOGIN = userInfo().username;
const USER = 'bench';
const PASSWORD = 'bench-password-1';
const NODE = 'bench';

interface Target {
  proxy: string;
  caPin: string;
}

const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;

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
    const page = await openAppTerminal(browser, host.url, { user: USER, password: PASSWORD, node: NODE, login: LOGIN });
    const ssh = new PtyShell(sshBin, sshArgs);
    cleanups.push(() => ssh.close());
    const gate = new PtyShell(process.execPath, gateArgs, gateEnv);
    cleanups.push(() => gate.close());
    await ssh.ready();
    await gate.ready();

    // Stock ssh in the app's xterm path: a keystroke baseline and the flood's.
    const xtermBaseline = await startXtermBaseline(sshBin, sshArgs);
    cleanups.push(() => xtermBaseline.close());
    const basePage = await openBaselineTerminal(browser, xtermBaseline.url);
    // The same page with xterm's CSS-animation cursor blink (the app before cursor-blink.ts).
    const cssBlinkPage = await openBaselineTerminal(browser, `${xtermBaseline.url}?blink=css`);

    await benchKeystrokes({
      browser,
      page,
      basePage,
      cssBlinkPage,
      hostUrl: host.url,
      ssh,
      gate,
      target: { proxy: target.proxy, node: NODE, login: LOGIN },
      keys: KEYS,
    });
    await cssBlinkPage.context().close();
    await benchInterrupt({ page, basePage, ssh, gate });
    if (process.env.BENCH_APP_ONLY === 'interrupt') return;
    await benchFlood({ page, basePage, ssh, gate });
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
