// The launch part of `npm run bench:app` (bench/app.ts): spawn of the server process → URL printed
// → navigation committed in a fresh browser context → the "User name" field rendered, visible and
// enabled. Three kinds of launch alternate in one run, so they share the machine's load:
//   baseline:  a plain node http server serving one labelled <input>
//   app, new:  the browser host with --add-cluster/--ca-pin into an empty home (first launch: the
//              cluster is added over the network before the list can show it)
//   app, again: the same into a home where that cluster is already added (every later launch:
//              the stored entry is listed at once, the add refreshes it behind)
// Prints p50 and p95 of each, the breakdown, and ratios against the baseline.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Browser } from '@playwright/test';
import { BASELINE_SERVER, WAIT_FOR_USER_NAME_FIELD, median, pct, spawnAndWaitForUrl, stopChild } from './app-probes.ts';

const VIEWPORT = { width: 1280, height: 800 };
/** Lets the previous launch's processes wind down: on 2 cores they would otherwise be timed too. */
const PAUSE_MS = 500;

export interface LaunchTiming {
  total: number;
  /** Spawn → the host logged "cluster ready" (NaN for the baseline). */
  added: number;
  /** Spawn → the login screen names the cluster (a new one's row fills in when its add ends; NaN for the baseline). */
  filled: number;
  url: number;
  commit: number;
  field: number;
}

type Kind = 'baseline' | 'app, new cluster' | 'app, cluster known';

/** Node arguments that start the host with its cluster pre-added into `home`. */
export type HostArgs = (home: string) => string[];

/** When the host logs "cluster ready" (it may come after the URL now), relative to `t0`. */
function whenAdded(server: Awaited<ReturnType<typeof spawnAndWaitForUrl>>, t0: number): Promise<number> {
  return new Promise((resolve) => {
    if (/cluster ready/.test(server.log())) return resolve(performance.now() - t0);
    const onData = (d: Buffer) => {
      if (!/cluster ready/.test(d.toString())) return;
      server.child.stderr!.off('data', onData);
      resolve(performance.now() - t0);
    };
    server.child.stderr!.on('data', onData);
    server.child.once('exit', () => resolve(NaN));
  });
}

/** One launch in a fresh browser context: spawn → URL → navigation committed → field ready. */
async function launchOnce(browser: Browser, args: string[] | undefined): Promise<LaunchTiming> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  await new Promise((r) => setTimeout(r, PAUSE_MS));
  const t0 = performance.now();
  const server = args
    ? await spawnAndWaitForUrl(args, /Gatehouse app: (\S+)/)
    : await spawnAndWaitForUrl(['-e', BASELINE_SERVER], /Baseline page: (\S+)/);
  const added = args ? whenAdded(server, t0) : Promise.resolve(NaN);
  try {
    const tUrl = performance.now();
    await page.goto(server.url, { waitUntil: 'commit' });
    const tCommit = performance.now();
    await page.evaluate(`(${WAIT_FOR_USER_NAME_FIELD})()`);
    const tField = performance.now();
    const field = page.getByRole('textbox', { name: 'User name', exact: true });
    if (!(await field.isVisible()) || !(await field.isEnabled()))
      throw new Error(`no visible, enabled textbox named "User name":\n${server.log()}`);
    // A new cluster's row may still say "connecting" (named by its proxy): the add finishes later.
    if (args)
      await page
        .getByRole('heading', { name: 'Log in to it' })
        .waitFor({ timeout: 15_000 })
        .catch(() => {
          throw new Error('the first screen is not "Log in to it" although the cluster was pre-added');
        });
    const tFilled = performance.now();
    return {
      total: tField - t0,
      filled: args ? tFilled - t0 : NaN,
      added: await added,
      url: tUrl - t0,
      commit: tCommit - tUrl,
      field: tField - tCommit,
    };
  } finally {
    await context.close();
    await stopChild(server.child);
  }
}

const ms = (x: number) => (Number.isNaN(x) ? '-' : `${x.toFixed(0)} ms`);

function row(name: string, xs: LaunchTiming[]): string {
  const p = (k: keyof LaunchTiming) => median(xs.map((x) => x[k]));
  const totals = xs.map((x) => x.total);
  return (
    `  ${name.padEnd(20)} p50 ${ms(median(totals)).padStart(7)}  p95 ${ms(pct(totals, 95)).padStart(7)}` +
    `   spawn→URL ${ms(p('url'))}, →commit ${ms(p('commit'))}, →field ${ms(p('field'))}` +
    (Number.isNaN(p('added')) ? '' : `   (spawn→cluster ready ${ms(p('added'))}, →name shown ${ms(p('filled'))})`)
  );
}

/** Runs `launches` rounds of baseline / app with a new cluster / app with a known one and prints them. */
export async function benchLaunch(browser: Browser, hostArgs: HostArgs, launches: number): Promise<void> {
  const knownHome = mkdtempSync(join(tmpdir(), 'gatehouse-bench-app-'));
  const runs: Record<Kind, LaunchTiming[]> = { baseline: [], 'app, new cluster': [], 'app, cluster known': [] };
  try {
    await launchOnce(browser, hostArgs(knownHome)); // adds the cluster there; warms the file cache and Chromium
    for (let i = 0; i < launches; i++) {
      runs.baseline.push(await launchOnce(browser, undefined));
      const fresh = mkdtempSync(join(tmpdir(), 'gatehouse-bench-app-'));
      try {
        runs['app, new cluster'].push(await launchOnce(browser, hostArgs(fresh)));
      } finally {
        rmSync(fresh, { recursive: true, force: true });
      }
      runs['app, cluster known'].push(await launchOnce(browser, hostArgs(knownHome)));
    }
  } finally {
    rmSync(knownHome, { recursive: true, force: true });
  }
  const base = median(runs.baseline.map((x) => x.total));
  const base95 = pct(
    runs.baseline.map((x) => x.total),
    95,
  );
  for (const kind of Object.keys(runs) as Kind[]) console.log(row(kind, runs[kind]));
  for (const kind of ['app, new cluster', 'app, cluster known'] as const) {
    const totals = runs[kind].map((x) => x.total);
    console.log(
      `  ratio ${kind}/baseline: p50 ${(median(totals) / base).toFixed(1)}x, p95 ${(pct(totals, 95) / base95).toFixed(1)}x`,
    );
  }
}
