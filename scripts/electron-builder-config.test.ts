// electron-builder.yml checked with electron-builder's own schema validator, and against what
// scripts/build-electron.mjs produces, so packaging does not first fail on a release machine.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { parse } from 'yaml';

const ROOT = new URL('../', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const config = parse(readFileSync(`${ROOT}electron-builder.yml`, 'utf8')) as Record<string, unknown>;

test('electron-builder.yml passes electron-builder schema validation', async () => {
  // Internal module path of app-builder-lib (electron-builder's engine); stable across 24-26.
  const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
    validateConfiguration(c: unknown, logger: unknown): Promise<void>;
  };
  const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
  await validateConfiguration(structuredClone(config), new DebugLogger(false));
  await assert.rejects(
    validateConfiguration({ ...structuredClone(config), linx: {} }, new DebugLogger(false)),
    /unknown property 'linx'/,
    'the validator does reject a misspelt key',
  );
});

test('the packaged app starts the bundle build-electron.mjs writes and ships dist/', () => {
  assert.equal(config.appId, 'dev.gatehouse.app');
  assert.equal(config.productName, 'Gatehouse');
  assert.deepEqual((config.extraMetadata as { main: string }).main, 'dist/electron/main.cjs');
  assert.match(
    readFileSync(`${ROOT}scripts/build-electron.mjs`, 'utf8'),
    /entryPoints: \{ main: 'src-main\/electron\/main\.ts' \}/,
  );
  const files = config.files as string[];
  assert.ok(files.includes('dist/**') && files.includes('package.json'));
  const unpack = config.asarUnpack as string[];
  for (const native of ['better-sqlite3', 'node-pty']) {
    assert.ok(
      unpack.some((p) => p.includes(native)),
      `${native} is unpacked from the asar`,
    );
  }
  const linux = config.linux as { target: string[] };
  assert.deepEqual(linux.target, ['AppImage', 'deb']);
});
