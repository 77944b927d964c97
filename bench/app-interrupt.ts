// The "Ctrl+C in a flood" row of `npm run bench:app` (bench/app.ts): `yes` floods the terminal,
// and once it has run long enough to fill every buffer on the way (FLOOD_RUN_MS), Ctrl+C is pressed
// and the time from its keydown to the prompt being the last line in xterm's rows is measured.
// What is already in flight when the shell dies (SSH window, stream and socket buffers, frames not
// yet parsed) is drawn first, so this row is the sum of those buffers over xterm's parse rate.
// Baseline: stock `ssh -tt` in THE SAME XTERM PATH (bench/xterm-baseline.ts); stock ssh and
// `gate ssh` in a bare node-pty for reference. Rounds interleave baseline and app.
import type { Page } from '@playwright/test';
import { PROMPT, type PtyShell } from './app-probes.ts';
import { arm, probeResult } from './app-terminal-page.ts';

const ROUNDS = Number(process.env.BENCH_INTERRUPT_ROUNDS ?? 3);
/** How long `yes` runs before Ctrl+C: long enough for the buffers to be full, not just filling. */
const FLOOD_RUN_MS = Number(process.env.BENCH_INTERRUPT_FLOOD_MS ?? 3_000);
/** A prompt slower than this is a failure of the row, not a figure. */
const PROMPT_TIMEOUT_MS = 120_000;
const FLOOD_CMD = 'yes flood-$((6*7))';
const FLOOD_LINE = 'flood-42';
const PROMPT_END = PROMPT.trimEnd();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Output frames the page received after the Ctrl+C keydown, per round: what was in flight. */
const arrivedAfter = new Map<Page, number[]>();

/** One round in a page: flood, Ctrl+C, ms from its keydown to the prompt as the last line. */
async function pageInterrupt(page: Page): Promise<number> {
  await arm(page, 'includes', FLOOD_LINE);
  await page.keyboard.type(FLOOD_CMD);
  await page.keyboard.press('Enter');
  await probeResult(page, 'the flood', 15_000);
  await sleep(FLOOD_RUN_MS);
  await arm(page, 'endsWith', PROMPT_END);
  await page.keyboard.press('Control+C');
  const probe = await probeResult(page, 'the prompt after Ctrl+C', PROMPT_TIMEOUT_MS);
  arrivedAfter.set(page, [...(arrivedAfter.get(page) ?? []), probe.wsChars]);
  return probe.shown;
}

/** One round in a local pty (output read as fast as node-pty delivers it, nothing drawn). */
async function ptyInterrupt(shell: PtyShell): Promise<number> {
  await shell.writeAndWait(`${FLOOD_CMD}\r`, (tail) => tail.includes(FLOOD_LINE), 15_000);
  await sleep(FLOOD_RUN_MS);
  return shell.writeAndWait('\x03', (tail) => tail.trimEnd().endsWith(PROMPT_END), PROMPT_TIMEOUT_MS);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) =>
  `median ${median(xs).toFixed(0)} ms  (runs: ${xs.map((x) => x.toFixed(0)).join(', ')} ms)`;
const fmtArrived = (page: Page) =>
  `\n      output frames received after the keydown: ${(arrivedAfter.get(page) ?? []).map((b) => `${(b / 1048576).toFixed(2)}`).join(', ')} MiB`;

export interface InterruptSetup {
  /** The app's page, logged in, its terminal focused at the prompt. */
  page: Page;
  /** Stock ssh in the app's xterm path, at the prompt. */
  basePage: Page;
  ssh: PtyShell;
  gate: PtyShell;
}

/** Runs the rounds through every path and prints the medians and the ratio app/baseline. */
export async function benchInterrupt({ page, basePage, ssh, gate }: InterruptSetup): Promise<void> {
  console.log(
    `\nCtrl+C in a flood: \`${FLOOD_CMD}\` for ${FLOOD_RUN_MS / 1000} s, Ctrl+C keydown → prompt is the last line, ${ROUNDS} rounds:`,
  );
  const runs = { ssh: [] as number[], gate: [] as number[], base: [] as number[], app: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    runs.ssh.push(await ptyInterrupt(ssh));
    runs.gate.push(await ptyInterrupt(gate));
    runs.base.push(await pageInterrupt(basePage));
    runs.app.push(await pageInterrupt(page));
  }
  console.log(`  stock ssh -tt → stock sshd (node-pty)          ${fmt(runs.ssh)}`);
  console.log(`  gate ssh → proxy → node (node-pty)             ${fmt(runs.gate)}`);
  console.log(`  baseline: stock ssh -tt in the same xterm path ${fmt(runs.base)}${fmtArrived(basePage)}`);
  console.log(`  app                                            ${fmt(runs.app)}${fmtArrived(page)}`);
  console.log(`  ratio app/baseline (median): ${(median(runs.app) / median(runs.base)).toFixed(2)}x`);
}
