// The flood row of `npm run bench:app` (bench/app.ts): `head -c 50M /dev/urandom | base64; echo
// <marker>` in the app's terminal, Enter → marker in xterm's rows, vs stock `ssh -tt` in THE SAME
// XTERM PATH (bench/xterm-baseline.ts), plus stock ssh / `gate ssh` in a bare node-pty for
// reference; CPU seconds per process group for each.
import type { Page } from '@playwright/test';
import { cpuByGroup, cpuSpent, type PtyShell } from './app-probes.ts';
import { arm, probeResult, type Probe } from './app-terminal-page.ts';

const FLOOD_MIB = Number(process.env.BENCH_FLOOD_MIB ?? 50);
const FLOOD_TIMEOUT_MS = Number(process.env.BENCH_FLOOD_TIMEOUT_MS ?? 150_000);
const MARKER = 'BENCH-DONE-42';
const FLOOD_CMD = `head -c ${FLOOD_MIB}M /dev/urandom | base64; echo BENCH-DONE-$((6*7))`;
/** base64 of FLOOD_MIB MiB in 76-column lines, each ending in \r\n on a tty, plus the marker line. */
const FLOOD_BYTES = Math.ceil((FLOOD_MIB * 1048576) / 3) * 4 + 2 * Math.ceil(((FLOOD_MIB * 1048576) / 3) * (4 / 76));

const ratio = (a: number, b: number) => `${(a / b).toFixed(1)}x`;

export async function appFlood(page: Page): Promise<Probe> {
  await arm(page, 'endsWith', FLOOD_CMD);
  await page.keyboard.type(FLOOD_CMD);
  await probeResult(page, 'the echo of the command');
  await arm(page, 'includes', MARKER);
  await page.keyboard.press('Enter');
  return page.evaluate<Probe>(`window.__bench.wait(${FLOOD_TIMEOUT_MS})`);
}

/** Names the processes whose CPU the flood figures report. */
export function processGroup(cmd: string): string | undefined {
  if (cmd.includes('src-main/host/main.ts') || cmd.includes('app-host.mjs')) return 'app host';
  if (/gatehouse\.(mjs|ts) start/.test(cmd)) return 'cluster (proxy+node)';
  if (cmd.includes('--type=renderer')) return 'Chromium renderer';
  if (cmd.includes('chromium')) return 'Chromium browser/GPU/network';
  if (cmd.includes('bin/gate.mjs')) return 'gate';
  if (cmd.startsWith('/usr/sbin/sshd') || cmd.startsWith('sshd')) return 'sshd';
  if (cmd.startsWith('ssh ') || cmd.startsWith('/usr/bin/ssh ')) return 'ssh';
  return undefined;
}

export interface FloodSetup {
  /** The app's page, logged in, its terminal focused at the prompt. */
  page: Page;
  /** Stock ssh in the app's xterm path (openBaselineTerminal); closed here after its flood. */
  basePage: Page;
  ssh: PtyShell;
  gate: PtyShell;
}

/** Runs the flood through every path and prints times, rates, CPU and the ratio. */
export async function benchFlood({ page, basePage, ssh, gate }: FloodSetup): Promise<void> {
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
  console.log(`  gate ssh → proxy → node (node-pty)            ${(gateFlood / 1000).toFixed(1)} s  ${rate(gateFlood)}`);
  console.log(`      CPU: ${gateCpu}`);
  // Stock ssh in the app's xterm path: the baseline of the ratio.
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
}
