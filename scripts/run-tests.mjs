#!/usr/bin/env node
// Runs the test suites with node's own test runner (through tsx for TypeScript).
// `npm test` = unit + integration + e2e (Playwright, e2e/). Pass a suite name to run one.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['src-main', 'src-cluster', 'src-shared', 'src-renderer', 'scripts', 'test-support'];
const skipDirs = new Set(['node_modules', 'gen', 'dist']);

function walk(dir, out) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (skipDirs.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

const all = roots.flatMap((r) => walk(join(root, r), [])).sort();
const isIntegration = (f) => f.split(sep).includes('integration');
const suites = {
  unit: all.filter((f) => !isIntegration(f)),
  integration: all.filter(isIntegration),
  // Playwright runs e2e/ itself (playwright.config.ts); its global setup fails the suite with a
  // clear message when Chromium (or a forced Electron) is missing — it never skips.
  e2e: 'playwright',
};
// The suites that must pass in every topology (issues 12 and 17), run a second time on separate
// processes (test-support/cluster-process.ts reads GATEHOUSE_TEST_TOPOLOGY). `npm test` runs them
// on the HA topology — two auth servers on one PostgreSQL, two proxies and a node — which also
// has auth, proxy and node as separate processes, so it covers what the 3-process SQLite "split"
// run covered (CI time: one extra run, not two); the split one stays runnable by name.
const TOPOLOGY_SUITES = [
  'src-cluster/integration/ssh-flow.test.ts',
  'src-cluster/integration/device-trust-matrix.test.ts',
  'src-cluster/integration/locks.test.ts',
];
const TOPOLOGY_OF = { 'integration-split': 'split', 'integration-ha': 'ha' };
suites['integration-split'] = TOPOLOGY_SUITES;
suites['integration-ha'] = TOPOLOGY_SUITES;
const wanted = process.argv[2] ? [process.argv[2]] : ['unit', 'integration', 'integration-ha', 'e2e'];
let failed = false;
// The suites past unit spawn gate/gatectl/gatehouse hundreds of times: they run the bundles users
// run (bin/*.mjs → dist/cli), built here from the sources under test, instead of transpiling
// ~300 modules through tsx at every spawn (test-support/cli-source.ts; half the CPU per spawn).
const spawnsCli = wanted.some((name) => name !== 'unit');
const cliEnv = spawnsCli ? buildCliBundles() : {};
for (const name of wanted) {
  const files = suites[name];
  if (files === 'playwright') {
    console.log(`\n=== ${name} tests (Playwright) ===`);
    const r = spawnSync(process.execPath, [join(root, 'node_modules/@playwright/test/cli.js'), 'test'], {
      stdio: 'inherit',
      cwd: root,
      env: { ...process.env, GATEHOUSE_TEST: '1', ...cliEnv },
    });
    if (r.status !== 0) failed = true;
    continue;
  }
  if (!files) {
    console.error(`unknown suite "${name}"; known: ${Object.keys(suites).join(', ')}`);
    process.exit(2);
  }
  if (files.length === 0) {
    console.error(`suite "${name}" has no test files`);
    failed = true;
    continue;
  }
  console.log(`\n=== ${name} tests (${files.length} files) ===`);
  // Unit files run two at a time. Integration files run one at a time: each starts a cluster of
  // daemons (the HA chaos file 5 processes, 50 sessions and 200 logins), and two of them together
  // pushed daemon start-up past its 120 s bound on this 2-core machine. Ports are not what stops
  // it: test-support/free-port.ts claims each one across test processes.
  const concurrency = name.startsWith('integration') ? '1' : '2';
  const topology = TOPOLOGY_OF[name] ? { GATEHOUSE_TEST_TOPOLOGY: TOPOLOGY_OF[name] } : {};
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, ...files], {
    stdio: 'inherit',
    cwd: root,
    env: { ...process.env, GATEHOUSE_TEST: '1', ...cliEnv, ...topology },
  });
  if (r.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);

/** Builds dist/cli from the current sources; returns the env that makes tests spawn the bundles. */
function buildCliBundles() {
  console.log('\n=== building dist/cli for the suites that spawn the CLIs ===');
  const r = spawnSync(process.execPath, [join(root, 'scripts/build-cli.mjs')], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error('building dist/cli failed (see above); the suites would test stale bundles, so none ran');
    process.exit(1);
  }
  return { GATEHOUSE_TEST_CLI: 'bundle' };
}
