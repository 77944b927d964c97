// Lints small snippets at virtual paths with the repo's real eslint.config.js, so the process
// boundary rules (ARCHITECTURE.md "Boundaries that lint / tsconfig enforce") can't silently stop
// matching when the config or the folder layout changes.
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

test('renderer: no electron, no Node built-ins, no main/cluster/native code', async () => {
  const f = 'src-renderer/stores/session.ts';
  await assertBlocked(f, `import { readFileSync } from 'node:fs';\nexport { readFileSync };`, 'IPC channel');
  await assertBlocked(f, `import { readFileSync } from 'fs';\nexport { readFileSync };`, 'IPC channel');
  await assertBlocked(f, `import { join } from 'path';\nexport { join };`, 'IPC channel');
  await assertBlocked(f, `import { spawn } from 'child_process';\nexport { spawn };`, 'IPC channel');
  await assertBlocked(f, `import { webcrypto } from 'crypto';\nexport { webcrypto };`, 'IPC channel');
  await assertBlocked(f, `import { readFile } from 'fs/promises';\nexport { readFile };`, 'IPC channel');
  await assertBlocked(f, `import { ipcRenderer } from 'electron';\nexport { ipcRenderer };`, 'preload');
  await assertBlocked(
    f,
    `import { CHANNELS } from '../../src-main/ipc/contract.ts';\nexport { CHANNELS };`,
    'preload API',
  );
  await assertBlocked(f, `export * from '../../src-cluster/resources/role.ts';`, 'preload API');
  await assertBlocked(
    f,
    `import addon from '../../native/build/Release/gatehouse.node';\nexport { addon };`,
    'device agent',
  );
  await assertBlocked(f, `export const m = await import('node:child_process');`, 'IPC channel');
});

test('renderer: its own code, npm UI packages and src-shared are allowed', async () => {
  await assertAllowed(
    'src-renderer/stores/session.ts',
    `import { create } from 'zustand';\nimport { z } from 'zod';\nimport { fmt } from './format.ts';\n` +
      `import { CERT_EXT } from '../../src-shared/cert-fields.ts';\nexport { create, z, fmt, CERT_EXT };`,
  );
});

test('renderer: only the types of the IPC contract, never its values or other main code', async () => {
  const f = 'src-renderer/stores/session.ts';
  await assertAllowed(
    f,
    `import type { GatehouseApi } from '../../src-main/ipc/contract.ts';\nexport type Api = GatehouseApi;`,
  );
  await assertAllowed(
    f,
    `import { type IpcError, type IpcResult } from '../../src-main/ipc/contract.ts';\nexport type E = [IpcError, IpcResult<1>];`,
  );
  await assertAllowed(f, `export type { ClusterSummary } from '../../src-main/ipc/contract.ts';`);
  await assertBlocked(
    f,
    `import { requests } from '../../src-main/ipc/contract.ts';\nexport { requests };`,
    'import type',
  );
  await assertBlocked(
    f,
    `import { type IpcError, requests } from '../../src-main/ipc/contract.ts';\nexport { requests };\nexport type E = IpcError;`,
    'import type',
  );
  await assertBlocked(f, `export { requests } from '../../src-main/ipc/contract.ts';`, 'import type');
  await assertBlocked(f, `export const m = await import('../../src-main/ipc/contract.ts');`, 'preload API');
  // Types from anywhere else in main stay out: they drag main's modules into the renderer's view.
  await assertBlocked(
    f,
    `import type { Profile } from '../../src-main/core/profiles.ts';\nexport type P = Profile;`,
    'main-process code',
  );
  await assertBlocked(f, `import type { IpcRenderer } from 'electron';\nexport type R = IpcRenderer;`, 'preload');
});

test('renderer unit tests may use node:test and node:assert, but no other Node built-in', async () => {
  const t = 'src-renderer/errors/error-text.test.ts';
  await assertAllowed(
    t,
    `import { test } from 'node:test';\nimport assert from 'node:assert/strict';\nimport a2 from 'node:assert';\nexport { test, assert, a2 };`,
  );
  await assertBlocked(t, `import { readFileSync } from 'node:fs';\nexport { readFileSync };`, 'IPC channel');
  await assertBlocked(t, `import { run } from 'node:test/reporters';\nexport { run };`, 'IPC channel');
  await assertBlocked(t, `import { ipcRenderer } from 'electron';\nexport { ipcRenderer };`, 'preload');
  await assertBlocked(
    'src-renderer/errors/error-text.ts',
    `import { test } from 'node:test';\nexport { test };`,
    'IPC channel',
  );
});

test('only src-main/electron/ imports electron', async () => {
  const importElectron = `import { app } from 'electron';\nexport { app };`;
  await assertAllowed('src-main/electron/main.ts', importElectron);
  await assertAllowed(
    'src-main/electron/preload.ts',
    `import { contextBridge } from 'electron/renderer';\nexport { contextBridge };`,
  );
  await assertBlocked('src-main/core/x.ts', importElectron, 'src-main/electron/');
  await assertBlocked(
    'src-main/core/x.ts',
    `import type { WebContents } from 'electron';\nexport type { WebContents };`,
    'src-main/electron/',
  );
  await assertBlocked('src-main/device/agent.ts', importElectron, 'src-main/electron/');
  await assertBlocked('src-main/core/x.ts', `export const e = await import('electron');`, 'src-main/electron/');
  await assertBlocked('src-cluster/auth/x.ts', importElectron, 'src-main/electron/');
  await assertBlocked('src-shared/x.ts', importElectron, 'src-main/electron/');
  await assertBlocked('scripts/x.mjs', importElectron, 'src-main/electron/');
  await assertBlocked(
    'scripts/x.mjs',
    `import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\nexport const e = require('electron');`,
    'src-main/electron/',
  );
});

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

test('src-main and src-cluster share only src-shared and proto/gen', async () => {
  await assertBlocked(
    'src-main/core/x.ts',
    `import { openSqlite } from '../../src-cluster/storage/sqlite.ts';\nexport { openSqlite };`,
    'proto/gen',
  );
  await assertBlocked(
    'src-main/core/x.ts',
    `import type { Role } from '../../src-cluster/resources/role.ts';\nexport type { Role };`,
    'src-shared/',
  );
  await assertBlocked(
    'src-main/core/x.ts',
    `export const m = await import('../../src-cluster/auth/x509.ts');`,
    'src-shared/',
  );
  await assertBlocked(
    'src-cluster/auth/x.ts',
    `import { loadProfile } from '../../src-main/core/profiles.ts';\nexport { loadProfile };`,
    'proto/gen',
  );
  await assertBlocked('src-cluster/x.ts', `export * from '../src-main/core/keys.ts';`, 'src-shared/');
  const shared =
    `import { GatehouseError } from '../../src-shared/errors.ts';\n` +
    `import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';\nexport { GatehouseError, AuthService };`;
  await assertAllowed('src-main/core/x.ts', shared);
  await assertAllowed('src-cluster/auth/x.ts', shared);
  await assertAllowed(
    'src-cluster/x.ts',
    `import { GatehouseError } from '../src-shared/errors.ts';\nexport { GatehouseError };`,
  );
  // Node built-ins are fine outside the renderer.
  await assertAllowed('src-cluster/node/x.ts', `import { spawn } from 'node:child_process';\nexport { spawn };`);
  await assertAllowed('src-main/core/x.ts', `import { readFile } from 'node:fs/promises';\nexport { readFile };`);
});

test('src-shared depends on neither side', async () => {
  await assertBlocked(
    'src-shared/sshcert/x.ts',
    `import { x } from '../../src-cluster/auth/x509.ts';\nexport { x };`,
    'src-shared/',
  );
  await assertBlocked('src-shared/x.ts', `import { x } from '../src-main/core/keys.ts';\nexport { x };`, 'src-shared/');
  await assertAllowed(
    'src-shared/sshcert/x.ts',
    `import { x } from '../errors.ts';\nimport { createHash } from 'node:crypto';\nexport { x, createHash };`,
  );
});

test('test-support depends on neither side, and the tests of both sides may use it', async () => {
  await assertBlocked(
    'test-support/x.ts',
    `import { x } from '../src-cluster/auth/x509.ts';\nexport { x };`,
    'test-support/',
  );
  await assertBlocked('test-support/x.ts', `export const m = await import('../src-main/core/keys.ts');`, 'bin/');
  const harness = `import { ClusterProcess } from '../../../test-support/cluster-process.ts';\nexport { ClusterProcess };`;
  await assertAllowed('src-main/cli/integration/x.test.ts', harness);
  await assertAllowed('src-cluster/node/integration/x.test.ts', harness);
});

test('every boundary message says what to do instead', async () => {
  const cases: Array<[string, string]> = [
    ['src-renderer/a.ts', `export * from 'node:os';`],
    ['src-renderer/a.ts', `export * from 'electron';`],
    ['src-renderer/a.ts', `export * from '../src-main/ipc/x.ts';`],
    ['src-renderer/a.ts', `export * from '../src-cluster/x.ts';`],
    ['src-renderer/a.ts', `export * from '../native/x.ts';`],
    ['src-main/core/a.ts', `export * from 'electron';`],
    ['src-main/core/a.ts', `export * from '../../native/x.ts';`],
    ['src-main/core/a.ts', `export * from '../../src-cluster/x.ts';`],
    ['src-cluster/a.ts', `export * from '../src-main/x.ts';`],
    ['src-shared/a.ts', `export * from '../src-main/x.ts';`],
    ['src-shared/a.ts', `export * from '../src-cluster/x.ts';`],
    ['test-support/a.ts', `export * from '../src-main/x.ts';`],
    ['test-support/a.ts', `export * from '../src-cluster/x.ts';`],
  ];
  for (const [file, code] of cases) {
    await assertBlocked(file, code, /\b(Keep|Call|Use|Move|Add|Ask|Do the work)\b/);
  }
});
