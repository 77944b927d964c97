// The rebuild for Electron, with @electron/rebuild and node-gyp recorded instead of run (they
// download Electron's headers, which this machine cannot): what is rebuilt, with which arguments,
// and that npm's nodedir (.npmrc) reaches neither.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { GYP_DIRS, rebuildForElectron, type GypSpawnOptions } from './electron-native.mjs';

const ROOT = new URL('../', import.meta.url).pathname;
const saved = process.env.npm_config_nodedir;
afterEach(() => {
  if (saved === undefined) delete process.env.npm_config_nodedir;
  else process.env.npm_config_nodedir = saved;
});

test('node-pty and cpu-features through @electron/rebuild, ssh2 crypto and the TPM addon through node-gyp', async () => {
  process.env.npm_config_nodedir = '/usr';
  const rebuilds: Array<{ options: unknown; nodedirDuring: string | undefined }> = [];
  const spawns: Array<{ args: string[]; options: GypSpawnOptions }> = [];
  await rebuildForElectron({
    root: ROOT,
    version: '45.5.0',
    arch: 'x64',
    rebuild: async (options) => void rebuilds.push({ options, nodedirDuring: process.env.npm_config_nodedir }),
    spawn: (_cmd, args, options) => (spawns.push({ args, options }), { status: 0 }),
  });
  assert.equal(rebuilds.length, 1);
  assert.equal(rebuilds[0]!.nodedirDuring, undefined, "npm's nodedir is hidden from @electron/rebuild");
  assert.deepEqual((rebuilds[0]!.options as { onlyModules: string[] }).onlyModules, ['node-pty', 'cpu-features']);
  assert.equal(process.env.npm_config_nodedir, '/usr', 'and restored afterwards');
  assert.deepEqual(
    spawns.map((s) => s.options.cwd),
    GYP_DIRS.map((d) => join(ROOT, d)),
  );
  for (const { args, options } of spawns) {
    assert.ok(args.includes('--runtime=electron') && args.includes('--target=45.5.0') && args.includes('--arch=x64'));
    assert.equal(options.env.npm_config_nodedir, undefined);
  }
});

test('a failed node-gyp build fails the packaging with the directory named', async () => {
  await assert.rejects(
    rebuildForElectron({
      root: ROOT,
      version: '45.5.0',
      arch: 'x64',
      rebuild: async () => undefined,
      spawn: () => ({ status: 1 }),
    }),
    /rebuilding node_modules\/ssh2\/lib\/protocol\/crypto for Electron 45\.5\.0 failed/,
  );
});
