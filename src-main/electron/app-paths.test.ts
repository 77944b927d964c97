import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { DEFAULT_ADDON_PATH } from '../device/tpm/addon.ts';
import { PACKAGED_TPM_ADDON, electronAppPaths } from './app-paths.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

test('packaged: renderer and preload inside app.asar, the TPM addon in resources/native', () => {
  const paths = electronAppPaths({
    isPackaged: true,
    resourcesPath: '/opt/Gatehouse/resources',
    bundleDir: '/opt/Gatehouse/resources/app.asar/dist/electron',
  });
  assert.deepEqual(paths, {
    rendererDir: '/opt/Gatehouse/resources/app.asar/dist/renderer',
    preloadPath: '/opt/Gatehouse/resources/app.asar/dist/electron/preload.cjs',
    tpmAddonPath: '/opt/Gatehouse/resources/native/gatehouse_tpm.node',
  });
});

test('a checkout: dist/ next to the sources and the addon where build-native.mjs puts it', () => {
  const paths = electronAppPaths({
    isPackaged: false,
    resourcesPath: '/usr/lib/electron/resources',
    bundleDir: join(ROOT, 'dist', 'electron'),
  });
  assert.equal(paths.rendererDir, join(ROOT, 'dist', 'renderer'));
  assert.equal(paths.tpmAddonPath, DEFAULT_ADDON_PATH, 'the same file the source-run code loads');
});

test('electron-builder.yml ships the addon where the packaged path points', () => {
  const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as {
    extraResources: Array<{ from: string; to: string }>;
  };
  const addon = config.extraResources.find((r) => r.to === PACKAGED_TPM_ADDON);
  assert.ok(addon, `an extraResources entry puts the addon at resources/${PACKAGED_TPM_ADDON}`);
  assert.equal(addon.from, 'native/build/Release/gatehouse_tpm.node');
  assert.ok(existsSync(join(ROOT, 'native', 'binding.gyp')));
});
