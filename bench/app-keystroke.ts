// The keystroke row of `npm run bench:app` (bench/app.ts): keydown in the page → the echo frame
// received and drawn in xterm's rows, through the host, proxy and node; timed in the page. In the
// same run: stock ssh and `gate ssh` in a pty (write one char → echo read), the host's own leg
// (a Node WebSocket client, app-host-keys.ts) and the browser's floor for the same path (a bare
// page and `ws` echo server in the same Chromium, app-ws-floor.ts), which is the baseline the
// renderer's added latency is counted over; and stock ssh in the app's xterm page
// (xterm-baseline.ts), which tells xterm's share from the app's (React, stores, host).
import type { Browser, Page } from '@playwright/test';
import { FRAME_WAITS, PROMPT, median, pct, type PtyShell } from './app-probes.ts';
import { hostKeystrokes } from './app-host-keys.ts';
import { arm, probeResult } from './app-terminal-page.ts';
import { browserWsFloor } from './app-ws-floor.ts';

interface Keys {
  shown: number[];
  sent: number[];
  recv: number[];
  frame: number[];
}

/** `keys` letters, 40 to a `#` comment line, each timed from keydown to its echo in xterm's rows. */
async function appKeystrokes(page: Page, keys: number): Promise<Keys> {
  const out: Keys = { shown: [], sent: [], recv: [], frame: [] };
  let line = '';
  for (let i = 0; i < keys; i++) {
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
    if (line.length === 40 || i === keys - 1) {
      await arm(page, 'endsWith', PROMPT.trimEnd());
      await page.keyboard.press('Enter');
      await probeResult(page, 'the prompt');
      line = '';
    }
  }
  return out;
}

/** The same keystrokes into a shell in a local pty: write one char → its echo read back. */
export async function ptyKeystrokes(shell: PtyShell, keys: number): Promise<number[]> {
  const out: number[] = [];
  let line = '';
  for (let i = 0; i < keys; i++) {
    if (line === '') await shell.writeAndWait('#', (_t, chunk) => chunk.includes('#'));
    const ch = String.fromCharCode(97 + (i % 26));
    line += ch;
    out.push(await shell.writeAndWait(ch, (_t, chunk) => chunk.includes(ch)));
    if (line.length === 40 || i === keys - 1) {
      await shell.writeAndWait('\r', (tail) => tail.includes(PROMPT));
      line = '';
    }
  }
  return out;
}

export interface KeystrokeSetup {
  browser: Browser;
  /** The app's page, logged in, its terminal focused at the prompt. */
  page: Page;
  /** Stock ssh in the app's xterm path (bench/xterm-baseline.ts), at the prompt. */
  basePage: Page;
  /** The same page with xterm's own CSS-animation cursor blink (how the app blinked before). */
  cssBlinkPage: Page;
  hostUrl: string;
  ssh: PtyShell;
  gate: PtyShell;
  target: { proxy: string; node: string; login: string };
  keys: number;
}

function merge(into: Keys, more: Keys): void {
  for (const k of ['shown', 'sent', 'recv', 'frame'] as const) into[k].push(...more[k]);
}

const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;

/** Runs every keystroke path and prints the rows and what Gatehouse adds at p99. */
export async function benchKeystrokes(s: KeystrokeSetup): Promise<void> {
  const sshKeys = await ptyKeystrokes(s.ssh, s.keys);
  const gateKeys = await ptyKeystrokes(s.gate, s.keys);
  const floor = await browserWsFloor(s.browser, s.keys);
  // Half the keys in each page, then the other half, so a change in the machine's load hits all three.
  const half = Math.ceil(s.keys / 2);
  const baseKeys = await appKeystrokes(s.basePage, half);
  const cssKeys = await appKeystrokes(s.cssBlinkPage, half);
  const appKeys = await appKeystrokes(s.page, half);
  merge(baseKeys, await appKeystrokes(s.basePage, s.keys - half));
  merge(cssKeys, await appKeystrokes(s.cssBlinkPage, s.keys - half));
  merge(appKeys, await appKeystrokes(s.page, s.keys - half));
  const hostKeys = await hostKeystrokes(s.hostUrl, { ...s.target, keys: s.keys });
  const frameWaits = await s.page.evaluate<number[]>(FRAME_WAITS(50));
  const row = (name: string, xs: number[]) =>
    console.log(`  ${name.padEnd(52)} p50 ${ms(median(xs)).padStart(8)}   p99 ${ms(pct(xs, 99)).padStart(8)}`);
  console.log(`\nKeystroke to echo, ${s.keys} keystrokes each:`);
  row('stock ssh -tt → stock sshd (pty write → echo)', sshKeys);
  row('gate ssh → proxy → node (pty write → echo)', gateKeys);
  row('host alone: input frame → echo frame (ws client)', hostKeys);
  row('browser floor: bare page + ws echo, keydown → echo', floor.recv);
  row('stock ssh in the app xterm path: → echo frame', baseKeys.recv);
  row('stock ssh in the app xterm path: → echo in rows', baseKeys.shown);
  row("… same page, xterm's CSS cursor blink: → echo frame", cssKeys.recv);
  row("… same page, xterm's CSS cursor blink: → in rows", cssKeys.shown);
  row('app: keydown → echo frame received (renderer)', appKeys.recv);
  row('app: keydown → echo in xterm DOM rows', appKeys.shown);
  row('  of which keydown → input frame sent', appKeys.sent);
  row('  of which keydown → next animation frame', appKeys.frame);
  row('reference: rAF request → callback in that page', frameWaits);
  printIssueRow(appKeys.recv, gateKeys, floor.recv);
  console.log(
    `  ratio app/ssh: p50 ${ratio(median(appKeys.shown), median(sshKeys))}, p99 ${ratio(pct(appKeys.shown, 99), pct(sshKeys, 99))}` +
      `   (gate/ssh: p50 ${ratio(median(gateKeys), median(sshKeys))})`,
  );
  const added = (xs: number[], over: number[]) => ms(pct(xs, 99) - pct(over, 99));
  console.log(
    `  added at p99 over gate ssh: echo frame received ${added(appKeys.recv, gateKeys)}, echo in xterm rows ${added(appKeys.shown, gateKeys)}` +
      ` (host alone: ${added(hostKeys, gateKeys)})`,
  );
  // The fairest baseline: the same page kind (xterm, output pump, binary frames) with stock ssh
  // behind it instead of the host, proxy and node: what is left is Gatehouse's.
  console.log(
    `  added over stock ssh in the app's xterm path: echo frame p50 ${ms(median(appKeys.recv) - median(baseKeys.recv))},` +
      ` p99 ${ms(pct(appKeys.recv, 99) - pct(baseKeys.recv, 99))}; echo in rows p99 ${ms(pct(appKeys.shown, 99) - pct(baseKeys.shown, 99))}`,
  );
  // The browser's own cost of the path is in the floor; Gatehouse's part of the renderer's
  // figure is what is left once the floor and the network path (gate ssh) are both taken off.
  console.log(
    `  Gatehouse added in the renderer over the browser floor + gate ssh: p50 ${ms(median(appKeys.recv) - median(floor.recv) - median(gateKeys))},` +
      ` p99 ${ms(pct(appKeys.recv, 99) - pct(floor.recv, 99) - pct(gateKeys, 99))}`,
  );
}

/**
 * The issue's row in one place: keystroke → echo frame reaches the renderer, against `gate ssh`
 * (pty write → echo) and the browser's floor (bare page + `ws` echo) measured in the same run.
 */
/** A p99 comparison means nothing when `gate ssh` alone is slow: the machine is too loaded. */
function verdict(addedP99: number, gateP99: number): string {
  if (gateP99 > 10) return `cannot tell, gate ssh p99 is ${ms(gateP99)}: rerun on a quieter machine`;
  return addedP99 <= 1 ? 'met' : 'not met';
}

function printIssueRow(app: number[], gate: number[], floor: number[]): void {
  const p = (xs: number[], q: number) => (q === 50 ? median(xs) : pct(xs, q));
  const pair = (xs: number[]) => `p50 ${ms(p(xs, 50))}, p99 ${ms(p(xs, 99))}`;
  const added = (q: number) => p(app, q) - p(gate, q);
  console.log(`  ISSUE ROW keystroke → echo frame in the renderer: app ${pair(app)}; gate ssh ${pair(gate)}`);
  console.log(
    `    added over gate ssh: p50 ${ms(added(50))}, p99 ${ms(added(99))} (goal ≤ 1 ms at p99: ${verdict(added(99), p(gate, 99))});` +
      ` browser floor ${pair(floor)}; app/floor p50 ${ratio(p(app, 50), p(floor, 50))}, p99 ${ratio(p(app, 99), p(floor, 99))}`,
  );
}
