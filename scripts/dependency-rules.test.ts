// Runs dependency-cruiser with the repo's real .dependency-cruiser.mjs on a small planted tree (a
// cycle, back-edges across the layers, every process boundary), so the rules can't silently stop
// matching when the config or the folder layout changes; and once on the real tree, as `npm test`
// does, to prove it is clean.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CRUISE_TIMEOUT_MS = 120_000;

interface Violation {
  severity: string;
  rule: string;
  from: string;
  to: string;
}
interface CruiseRun {
  status: number | null;
  violations: Violation[];
}

/** Runs depcruise as `npm run -s deps` does (its `err` report: what a developer reads, and the exit code). */
function cruise(cwd: string, args: string[]): CruiseRun {
  const r = spawnSync(process.execPath, [cli, '--config', '.dependency-cruiser.mjs', ...args], {
    cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: CRUISE_TIMEOUT_MS,
  });
  assert.equal(r.error, undefined, `depcruise did not run: ${r.error?.message}`);
  assert.match(r.stdout, /dependencies cruised/, `depcruise printed no summary (status ${r.status}): ${r.stderr}`);
  // "  error rule: from → to", or for a cycle "  error no-circular: from → " and the cycle's files below.
  const violations = [...r.stdout.matchAll(/^\s+(error|warn) (\S+): (\S+) →\s+(\S+)/gm)].map((m) => ({
    severity: m[1]!,
    rule: m[2]!,
    from: m[3]!,
    to: m[4]!,
  }));
  return { status: r.status, violations };
}

/** The planted tree: each file imports what its name says; paths are what the rules look at. */
const PLANTED: Record<string, string> = {
  // A cycle inside one folder, so only no-circular can catch it.
  'src-cluster/storage/cycle-a.ts': `import { b } from './cycle-b.ts';\nexport const a = () => b;`,
  'src-cluster/storage/cycle-b.ts': `import { a } from './cycle-a.ts';\nexport const b = () => a;`,
  // Back-edges: storage → auth (value), locks → api (type only), node ⇄ proxy are siblings.
  'src-cluster/storage/backend.ts': `import { x } from '../auth/x.ts';\nexport const s = x;`,
  'src-cluster/auth/x.ts': `export const x = 1;`,
  'src-cluster/locks/lock-service.ts': `import type { Hooks } from '../api/admin.ts';\nexport type L = Hooks;`,
  'src-cluster/api/admin.ts': `export interface Hooks { a: number }`,
  'src-cluster/node/server.ts': `import { p } from '../proxy/proxy.ts';\nexport const n = p;`,
  'src-cluster/proxy/proxy.ts': `export const p = 1;`,
  // Allowed: the daemon composes everything below it; tests may import across layers.
  'src-cluster/daemon/daemon.ts':
    `import { n } from '../node/server.ts';\nimport { p } from '../proxy/proxy.ts';\n` +
    `import { x } from '../auth/x.ts';\nexport const d = [n, p, x];`,
  'src-cluster/storage/backend.test.ts': `import { d } from '../daemon/daemon.ts';\nexport const t = d;`,
  // A folder nobody placed in a layer.
  'src-cluster/newkind/thing.ts': `import { x } from '../auth/x.ts';\nexport const t = x;`,
  // resources → authz was a known violation until issue 12 moved the trust-mode lists down: now a layer error.
  'src-cluster/resources/role.ts': `import { m } from '../authz/device-trust-mode.ts';\nexport const r = m;`,
  'src-cluster/authz/device-trust-mode.ts': `export const m = 'off';`,
  // Known violation: reported as a warning, not as the layer error.
  'src-main/app/about.ts': `import { v } from '../cli/version.ts';\nexport const a = v;`,
  'src-main/cli/version.ts': `export const v = '1';`,
  // src-main: core → app back-edge; device → app type-only back-edge.
  'src-main/core/client.ts': `import { a } from '../app/compose.ts';\nexport const c = a;`,
  'src-main/app/compose.ts': `export const a = 1;\nexport interface App { a: number }`,
  'src-main/device/agent.ts': `import type { App } from '../app/compose.ts';\nexport type D = App;`,
  // Production code importing test code; tests importing test-support is fine.
  'src-main/core/uses-fake.ts': `import { fake } from '../test-support/fake.ts';\nexport const u = fake;`,
  'src-main/test-support/fake.ts': `export const fake = 1;`,
  'src-main/core/client.test.ts': `import { fake } from '../test-support/fake.ts';\nexport const t = fake;`,
  'src-shared/helper.ts': `import { h } from './helper.test.ts';\nexport const s = h;`,
  'src-shared/helper.test.ts': `export const h = 1;`,
  // The sides and the neutral folders.
  'src-main/core/uses-cluster.ts': `import { x } from '../../src-cluster/auth/x.ts';\nexport const u = x;`,
  'src-cluster/auth/uses-main.ts': `import { a } from '../../src-main/app/compose.ts';\nexport const u = a;`,
  'src-shared/uses-main.ts': `import { a } from '../src-main/app/compose.ts';\nexport const u = a;`,
  'test-support/uses-cluster.ts': `import { x } from '../src-cluster/auth/x.ts';\nexport const u = x;`,
  // The renderer.
  'src-renderer/stores/uses-node.ts': `import { readFileSync } from 'node:fs';\nexport const r = readFileSync;`,
  'src-renderer/stores/uses-node-test.ts': `import { test } from 'node:test';\nexport const r = test;`,
  'src-renderer/stores/store.test.ts':
    `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\n` +
    `import type { Channel } from '../../src-main/ipc/contract.ts';\nexport const r = [test, assert];\nexport type C = Channel;`,
  'src-renderer/stores/uses-ipc-value.ts': `import { channels } from '../../src-main/ipc/contract.ts';\nexport const r = channels;`,
  'src-renderer/stores/uses-main.ts': `import type { App } from '../../src-main/app/compose.ts';\nexport type R = App;`,
  'src-renderer/stores/uses-cluster.ts': `export const r = await import('../../src-cluster/auth/x.ts');`,
  'src-main/ipc/contract.ts': `export const channels = ['a'];\nexport type Channel = 'a';`,
  // electron and the native addon.
  'src-main/electron/main.ts': `import { app } from 'electron';\nexport const m = app;`,
  'src-main/core/uses-electron.ts': `import { app } from 'electron';\nexport const m = app;`,
  'src-main/device/tpm.ts':
    `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n` +
    `export const addon: unknown = require('../../native/index.cjs');`,
  'src-main/core/uses-native.ts':
    `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n` +
    `export const addon: unknown = require('../../native/index.cjs');`,
  'native/index.cjs': `module.exports = {};`,
  // The same boundaries through other import forms (moved here from the old lint regexes).
  'src-renderer/stores/uses-electron.ts': `import { ipcRenderer } from 'electron';\nexport const r = ipcRenderer;`,
  'src-renderer/stores/uses-native.ts': `export * from '../../native/index.cjs';`,
  'src-renderer/stores/reporters.test.ts': `import { run } from 'node:test/reporters';\nexport const r = run;`,
  'src-renderer/stores/dynamic-ipc.ts': `export const m = await import('../../src-main/ipc/contract.ts');`,
  'src-main/core/reexports-cluster.ts': `export * from '../../src-cluster/auth/x.ts';`,
  'src-main/core/electron-types.ts': `import type { App } from 'electron';\nexport type E = App;`,
  'scripts/uses-electron.mjs': `import { app } from 'electron';\nexport const m = app;`,
  // An import that resolves nowhere.
  'src-main/core/typo.ts': `import { y } from './no-such-file.ts';\nexport const t = y;`,
};

function plant(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-deprules-'));
  copyFileSync(join(root, '.dependency-cruiser.mjs'), join(dir, '.dependency-cruiser.mjs'));
  copyFileSync(join(root, 'tsconfig.base.json'), join(dir, 'tsconfig.base.json'));
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
  for (const [file, text] of Object.entries(PLANTED)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  return dir;
}

const key = (v: Violation) => `${v.severity} ${v.rule}: ${v.from} → ${v.to}`;

test('the rules fail on a planted cycle, layer back-edges and every process boundary', (t) => {
  const dir = plant();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const run = cruise(dir, [
    'src-cluster',
    'src-main',
    'src-shared',
    'src-renderer',
    'test-support',
    'native',
    'scripts',
  ]);
  const found = new Set(run.violations.map(key));
  const expected = [
    'error no-circular: src-cluster/storage/cycle-a.ts → src-cluster/storage/cycle-b.ts',
    'error cluster-layers/storage: src-cluster/storage/backend.ts → src-cluster/auth/x.ts',
    'error cluster-layers/locks: src-cluster/locks/lock-service.ts → src-cluster/api/admin.ts',
    'error cluster-layers/node: src-cluster/node/server.ts → src-cluster/proxy/proxy.ts',
    'error cluster-unlayered-folder: src-cluster/newkind/thing.ts → src-cluster/auth/x.ts',
    'error cluster-layers/resources: src-cluster/resources/role.ts → src-cluster/authz/device-trust-mode.ts',
    'error main-layers/app: src-main/app/about.ts → src-main/cli/version.ts',
    'error main-layers/core: src-main/core/client.ts → src-main/app/compose.ts',
    'error main-layers/device: src-main/device/agent.ts → src-main/app/compose.ts',
    'error production-imports-test-code: src-main/core/uses-fake.ts → src-main/test-support/fake.ts',
    'error production-imports-test-code: src-shared/helper.ts → src-shared/helper.test.ts',
    'error main-imports-cluster: src-main/core/uses-cluster.ts → src-cluster/auth/x.ts',
    'error cluster-imports-main: src-cluster/auth/uses-main.ts → src-main/app/compose.ts',
    'error shared-imports-a-side: src-shared/uses-main.ts → src-main/app/compose.ts',
    'error test-support-imports-a-side: test-support/uses-cluster.ts → src-cluster/auth/x.ts',
    'error renderer-imports-node: src-renderer/stores/uses-node.ts → fs',
    'error renderer-imports-node-test: src-renderer/stores/uses-node-test.ts → node:test',
    'error renderer-imports-ipc-values: src-renderer/stores/uses-ipc-value.ts → src-main/ipc/contract.ts',
    'error renderer-imports-main: src-renderer/stores/uses-main.ts → src-main/app/compose.ts',
    'error renderer-imports-privileged-code: src-renderer/stores/uses-cluster.ts → src-cluster/auth/x.ts',
    'error native-outside-src-main-device: src-main/core/uses-native.ts → native/index.cjs',
    'error not-to-unresolvable: src-main/core/typo.ts → ./no-such-file.ts',
    'error renderer-imports-privileged-code: src-renderer/stores/uses-native.ts → native/index.cjs',
    'error native-outside-src-main-device: src-renderer/stores/uses-native.ts → native/index.cjs',
    'error renderer-imports-node: src-renderer/stores/reporters.test.ts → node:test/reporters',
    'error renderer-imports-ipc-values: src-renderer/stores/dynamic-ipc.ts → src-main/ipc/contract.ts',
    'error main-imports-cluster: src-main/core/reexports-cluster.ts → src-cluster/auth/x.ts',
  ];
  for (const e of expected) assert.ok(found.has(e), `missing violation:\n  ${e}\nfound:\n  ${[...found].join('\n  ')}`);
  // electron resolves through the node_modules symlink, so only the importing side is compared.
  const electronFrom = (rule: string) =>
    run.violations
      .filter((v) => v.rule === rule)
      .map((v) => v.from)
      .sort();
  assert.deepEqual(
    electronFrom('electron-outside-src-main-electron'),
    [
      'scripts/uses-electron.mjs',
      'src-main/core/electron-types.ts',
      'src-main/core/uses-electron.ts',
      'src-renderer/stores/uses-electron.ts',
    ],
    'only src-main/electron/ may import electron',
  );
  assert.ok(
    run.violations.some(
      (v) => v.rule === 'renderer-imports-privileged-code' && v.from === 'src-renderer/stores/uses-electron.ts',
    ),
    'the renderer may not import electron',
  );
  // Nothing beyond the planted violations: the allowed imports (daemon composing, tests crossing
  // layers, type-only IPC contract in the renderer, node:test in renderer tests) stay allowed.
  const unexpected = [...found].filter((f) => !expected.includes(f) && !f.includes('node_modules/electron/'));
  assert.deepEqual(unexpected, []);
  assert.notEqual(run.status, 0, 'depcruise must exit non-zero on errors');
});

test('the real tree is clean', async () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const deps = pkg.scripts['deps'];
  assert.ok(deps?.startsWith('depcruise --config .dependency-cruiser.mjs '), `unexpected deps script: ${deps}`);
  assert.match(pkg.scripts['test'] ?? '', /npm run -s deps/, '`npm test` must run the dependency rules');
  const roots = deps.split(/\s+/).slice(3);
  const run = cruise(root, roots);
  const errors = run.violations.filter((v) => v.severity === 'error');
  assert.deepEqual(errors.map(key), [], 'the real tree breaks the dependency rules');
  assert.equal(run.status, 0);
});
