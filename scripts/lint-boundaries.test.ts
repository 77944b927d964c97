// Lints small snippets at virtual paths with the repo's real eslint.config.js, so the one boundary
// lint still checks (the native addon, which can be loaded in ways a module graph cannot see) can't
// silently stop matching. The other boundaries are dependency-cruiser rules, tested in
// scripts/dependency-rules.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const root = fileURLToPath(new URL('..', import.meta.url));
const BOUNDARY_RULES = new Set([
  'no-restricted-imports',
  '@typescript-eslint/no-restricted-imports',
  'no-restricted-syntax',
]);

const eslint = new ESLint({
  cwd: root,
  // Virtual files are in no tsconfig, so the project service can't type them; the boundary rules
  // don't need types.
  overrideConfig: { ...tseslint.configs.disableTypeChecked, files: ['**/*.{ts,tsx,mts,cts}'] },
});

async function boundaryErrors(filePath: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath });
  assert.ok(result, `no lint result for ${filePath}`);
  const fatal = result.messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${filePath} did not parse`);
  return result.messages.filter((m) => m.ruleId !== null && BOUNDARY_RULES.has(m.ruleId));
}

async function assertBlocked(filePath: string, code: string, messagePart: string | RegExp): Promise<void> {
  const errors = await boundaryErrors(filePath, code);
  assert.equal(
    errors.length,
    1,
    `expected one boundary error in ${filePath} for:\n${code}\ngot: ${JSON.stringify(errors)}`,
  );
  const [e] = errors;
  assert.equal(e!.severity, 2);
  if (typeof messagePart === 'string')
    assert.ok(e!.message.includes(messagePart), `message "${e!.message}" lacks "${messagePart}"`);
  else assert.match(e!.message, messagePart);
}

async function assertAllowed(filePath: string, code: string): Promise<void> {
  assert.deepEqual(await boundaryErrors(filePath, code), [], `expected ${filePath} to be allowed:\n${code}`);
}

test('only src-main/device/ loads the native addon', async () => {
  const viaRequire = (p: string) =>
    `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport const addon = require('${p}');`;
  await assertAllowed('src-main/device/tpm.ts', viaRequire('../../native/build/Release/gatehouse_native.node'));
  await assertAllowed(
    'src-main/device/tpm.ts',
    `import bindings from 'bindings';\nexport const addon = bindings('gatehouse_native');`,
  );
  await assertBlocked(
    'src-main/core/x.ts',
    viaRequire('../../native/build/Release/gatehouse_native.node'),
    'src-main/device/',
  );
  await assertBlocked('src-main/core/x.ts', viaRequire('./anything.node'), 'src-main/device/');
  await assertBlocked(
    'src-main/core/x.ts',
    `import bindings from 'bindings';\nexport { bindings };`,
    'src-main/device/',
  );
  await assertBlocked('src-main/electron/x.ts', `export * from '../../native/index.ts';`, 'src-main/device/');
  await assertBlocked(
    'src-cluster/node/x.ts',
    `export function load(p: string) { process.dlopen({ exports: {} }, p); }`,
    'src-main/device/',
  );
  await assertAllowed('native/test/smoke.mjs', viaRequire('../build/Release/gatehouse_native.node'));
});

test('loading the addon outside src-main/device/ says what to do instead', async () => {
  const cases: Array<[string, string]> = [
    ['src-main/core/a.ts', `export * from '../../native/x.ts';`],
    ['src-cluster/a.ts', `export const m = await import('../native/x.ts');`],
    ['src-renderer/a.ts', `export * from '../native/x.ts';`],
    ['scripts/a.mjs', `export const b = require('bindings');`],
  ];
  for (const [file, code] of cases) await assertBlocked(file, code, /\bCall the device agent\b/);
});

test("everything else is dependency-cruiser's: lint lets cross-process imports through", async () => {
  // Guards against the two tools drifting into double reports with different messages.
  await assertAllowed(
    'src-main/core/x.ts',
    `import { openSqlite } from '../../src-cluster/storage/sqlite.ts';\nexport { openSqlite };`,
  );
  await assertAllowed('src-renderer/a.ts', `import { app } from 'electron';\nexport { app };`);
});
