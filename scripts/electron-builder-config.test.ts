// electron-builder.yml checked with electron-builder's own schema validator, and against what
// scripts/build-electron.mjs produces, so packaging does not first fail on a release machine.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { parse } from 'yaml';
import {
  GYP_DIRS,
  MAIN_RUNTIME_PACKAGES,
  NOT_FOR_MAIN,
  electronGypArgs,
  electronGypEnv,
  electronRebuildOptions,
  installedElectronVersion,
} from './electron-native.mjs';

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
  assert.ok(files.includes('dist/electron/**') && files.includes('dist/renderer/**') && files.includes('package.json'));
  const linux = config.linux as { target: string[]; icon: string };
  assert.deepEqual(linux.target, ['AppImage', 'deb']);
  for (const size of [16, 32, 48, 64, 128, 256, 512]) {
    assert.ok(existsSync(`${ROOT}${linux.icon}/${size}x${size}.png`), `${linux.icon}/${size}x${size}.png`);
  }
  assert.ok(existsSync(`${ROOT}assets/icon.svg`), "the icons' source");
});

test("only the native code main loads is unpacked; better-sqlite3 (the cluster's) is not packed", () => {
  const unpack = config.asarUnpack as string[];
  assert.ok(unpack.includes('node_modules/node-pty/**'));
  assert.ok(unpack.includes('node_modules/ssh2/lib/protocol/crypto/build/**'));
  assert.ok(!unpack.some((p) => p.includes('better-sqlite3')));
  const files = config.files as string[];
  const keep = /^!node_modules\/!\(([^)]+)\)/.exec(files.find((f) => f.startsWith('!node_modules/!(')) ?? '');
  assert.ok(keep, 'one exclusion keeps the runtime packages');
  assert.deepEqual(keep[1]!.split('|').sort(), [...MAIN_RUNTIME_PACKAGES].sort());
  for (const name of NOT_FOR_MAIN) assert.ok(!MAIN_RUNTIME_PACKAGES.includes(name));
});

test('the rebuild targets Electron: the hook, no npm nodedir, onlyModules, the gyp projects rebuild misses', () => {
  assert.equal(config.npmRebuild, true, 'npmRebuild false would skip the beforeBuild hook too');
  assert.equal(config.beforeBuild, './scripts/electron-before-build.mjs');
  assert.ok(existsSync(`${ROOT}scripts/electron-before-build.mjs`));
  const version = installedElectronVersion(ROOT);
  const opts = electronRebuildOptions({ root: ROOT, version, arch: 'x64' });
  assert.equal(opts.electronVersion, version);
  assert.deepEqual(opts.onlyModules, ['node-pty', 'cpu-features']);
  assert.equal(opts.buildPath, ROOT);
  for (const dir of GYP_DIRS) assert.ok(existsSync(`${ROOT}${dir}/binding.gyp`), `${dir}/binding.gyp`);
  assert.deepEqual(
    Object.keys(electronGypEnv({ npm_config_nodedir: '/usr', NPM_CONFIG_NODEDIR: '/usr', PATH: '/bin' })),
    ['PATH'],
  );
  const args = electronGypArgs(version, 'x64');
  assert.ok(args.includes('--runtime=electron') && args.includes(`--target=${version}`));
  assert.ok(!args.some((a) => a.startsWith('--nodedir')));
});

test('fuses: no RunAsNode, NODE_OPTIONS or --inspect; asar integrity, asar only, encrypted cookies', () => {
  assert.deepEqual(config.electronFuses, {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    enableCookieEncryption: true,
  });
});

test("the deb keeps electron-builder's default dependencies and adds the tss2 runtime libraries", () => {
  const FpmTarget = (
    require('app-builder-lib/out/targets/FpmTarget.js') as {
      default: { prototype: { getDefaultDepends(target: string): string[] } };
    }
  ).default;
  const defaults = FpmTarget.prototype.getDefaultDepends.call(undefined, 'deb');
  assert.ok(defaults.includes('libgtk-3-0'), "read electron-builder's real list");
  assert.deepEqual((config.deb as { depends: string[] }).depends, [
    ...defaults,
    'libtss2-esys-3.0.2-0',
    'libtss2-tctildr0',
    'libtss2-mu0',
    'libtss2-rc0',
  ]);
});
