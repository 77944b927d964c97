// Builds the real unpacked Linux package (`electron-builder --linux dir`, the layout inside the
// AppImage and the deb) from a fresh renderer and main bundle, and checks what ended up where:
// app.asar's contents, what is unpacked, the TPM addon in resources/native, the fuses, and the deb's
// dependencies. Electron's binary cannot be downloaded here, so electronDist points at a stand-in
// (test-support/electron-stand-in.ts) that carries the fuse wire; npmRebuild=false skips the
// beforeBuild hook, which would download Electron's headers to rebuild the native modules (the
// release build runs it; scripts/electron-builder-config.test.ts checks its plan).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { electronAppPaths } from '../../src-main/electron/app-paths.ts';
import { makeElectronStandIn } from '../../test-support/electron-stand-in.ts';
import { MAIN_EXTERNAL_PACKAGES, MAIN_RUNTIME_PACKAGES } from '../electron-native.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const require = createRequire(import.meta.url);
const asar = require('@electron/asar') as {
  listPackage(archive: string, opts?: unknown): string[];
  statFile(archive: string, file: string): { unpacked?: boolean; size?: number };
  extractAll(archive: string, dest: string): void;
  extractFile(archive: string, file: string): Buffer;
};
const work = mkdtempSync(join(tmpdir(), 'gatehouse-electron-package-'));
const out = join(work, 'release');
const appOut = join(out, 'linux-unpacked');
const resources = join(appOut, 'resources');
const archive = join(resources, 'app.asar');
let files: string[] = [];

function run(cmd: string, args: string[], what: string): string {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, CI: '1' } });
  assert.equal(r.status, 0, `${what} failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
  return `${r.stdout}\n${r.stderr}`;
}

before(() => {
  const addon = join(ROOT, 'native/build/Release/gatehouse_tpm.node');
  assert.ok(existsSync(addon), `${addon} is missing: install libtss2-dev and run node scripts/build-native.mjs`);
  run(process.execPath, [join(ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], 'vite build');
  run(process.execPath, [join(ROOT, 'scripts/build-electron.mjs')], 'build-electron');
  const standIn = makeElectronStandIn(ROOT, join(work, 'electron-dist'));
  const log = run(
    process.execPath,
    [
      join(ROOT, 'node_modules/electron-builder/cli.js'),
      '--linux',
      'dir',
      `-c.electronDist=${standIn.dir}`,
      '-c.npmRebuild=false',
      `-c.directories.output=${out}`,
    ],
    'electron-builder --linux dir',
  );
  assert.doesNotMatch(log, /downloading|download/i, 'nothing is downloaded in this mode');
  assert.ok(existsSync(archive), `electron-builder wrote no ${archive}:\n${log}`);
  files = asar.listPackage(archive);
});

after(() => rmSync(work, { recursive: true, force: true }));

/** Top-level package names under node_modules in the archive (scoped ones as @scope/name). */
function archivedPackages(): string[] {
  const names = new Set<string>();
  for (const f of files) {
    const m = /^\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f);
    if (m) names.add(m[1]!);
  }
  return [...names].sort();
}

test('main.cjs requires only electron, builtins and the packages the package plan names', () => {
  const main = readFileSync(join(ROOT, 'dist/electron/main.cjs'), 'utf8');
  const required = new Set([...main.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!));
  const builtins = new Set(builtinModules);
  const packages = [...required].filter((r) => r !== 'electron' && !r.startsWith('node:') && !builtins.has(r));
  assert.deepEqual(packages.sort(), [...MAIN_EXTERNAL_PACKAGES].sort(), 'scripts/electron-native.mjs is out of date');
});

test('app.asar: the main bundle, preload and renderer, and only the node_modules main needs', () => {
  for (const f of [
    '/package.json',
    '/dist/electron/main.cjs',
    '/dist/electron/preload.cjs',
    '/dist/renderer/index.html',
  ]) {
    assert.ok(files.includes(f), `${f} is in app.asar`);
  }
  assert.ok(
    files.some((f) => /^\/dist\/renderer\/assets\/index-[^/]+\.js$/.test(f)),
    'the renderer bundle',
  );
  assert.deepEqual(
    files.filter((f) => f.endsWith('.map')),
    [],
    'no source maps',
  );
  assert.deepEqual(archivedPackages(), [...MAIN_RUNTIME_PACKAGES].sort());
  for (const forbidden of [
    'react',
    'react-dom',
    '@xterm',
    'zustand',
    'electron',
    'electron-builder',
    'typescript',
    'vite',
    'tsx',
    'esbuild',
    'better-sqlite3',
  ]) {
    assert.ok(!files.some((f) => f.startsWith(`/node_modules/${forbidden}/`)), `${forbidden} is not in app.asar`);
  }
  assert.ok(!files.some((f) => f.startsWith('/src-') || f.startsWith('/native/')), 'no sources in app.asar');
  const pkg = JSON.parse(asar.extractFile(archive, 'package.json').toString('utf8')) as { main: string };
  assert.equal(pkg.main, 'dist/electron/main.cjs');
});

test('the native code main loads is unpacked next to the asar', () => {
  const unpacked = [
    'node_modules/node-pty/build/Release/pty.node',
    'node_modules/ssh2/lib/protocol/crypto/build/Release/sshcrypto.node',
    'node_modules/cpu-features/build/Release/cpufeatures.node',
  ];
  for (const f of unpacked) {
    assert.ok(existsSync(join(resources, 'app.asar.unpacked', f)), `${f} is in app.asar.unpacked`);
    assert.equal(asar.statFile(archive, f).unpacked, true, `the asar header sends ${f} to app.asar.unpacked`);
  }
});

test('what main requires loads from the packaged files (no dependency left behind)', () => {
  const extracted = join(work, 'extracted');
  asar.extractAll(archive, extracted);
  for (const name of MAIN_EXTERNAL_PACKAGES) {
    const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(join(extracted, 'node_modules', name))})`], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, `${name} does not load from the package:\n${r.stderr}`);
  }
});

test('the TPM addon is at resources/native, where main looks for it when packaged', () => {
  const packaged = electronAppPaths({
    isPackaged: true,
    resourcesPath: resources,
    bundleDir: join(archive, 'dist/electron'),
  });
  assert.equal(packaged.tpmAddonPath, join(resources, 'native', 'gatehouse_tpm.node'));
  assert.ok(existsSync(packaged.tpmAddonPath), 'the addon file is there');
  assert.ok(
    readFileSync(packaged.tpmAddonPath).equals(readFileSync(join(ROOT, 'native/build/Release/gatehouse_tpm.node'))),
    'the built addon, as is',
  );
  assert.ok(!files.some((f) => f.endsWith('gatehouse_tpm.node')), 'not (also) inside app.asar');
});

test('the fuses are flipped in the packaged executable', async () => {
  const { getCurrentFuseWire, FuseV1Options } = require('@electron/fuses') as typeof import('@electron/fuses');
  const wire = (await getCurrentFuseWire(join(appOut, 'gatehouse'))) as unknown as Record<number, number>;
  const ON = 49;
  const OFF = 48;
  assert.equal(wire[FuseV1Options.RunAsNode], OFF, 'RunAsNode');
  assert.equal(wire[FuseV1Options.EnableNodeOptionsEnvironmentVariable], OFF, 'NODE_OPTIONS');
  assert.equal(wire[FuseV1Options.EnableNodeCliInspectArguments], OFF, '--inspect');
  assert.equal(wire[FuseV1Options.EnableEmbeddedAsarIntegrityValidation], ON, 'asar integrity');
  assert.equal(wire[FuseV1Options.OnlyLoadAppFromAsar], ON, 'only load from asar');
  assert.equal(wire[FuseV1Options.EnableCookieEncryption], ON, 'cookie encryption');
});

test('the deb depends on electron-builder defaults plus the packages of the libraries the addon links', () => {
  // electron-builder's own default list (app-builder-lib FpmTarget), the one `depends` replaces.
  const FpmTarget = (
    require('app-builder-lib/out/targets/FpmTarget.js') as {
      default: { prototype: { getDefaultDepends(target: string): string[] } };
    }
  ).default;
  const defaults = FpmTarget.prototype.getDefaultDepends.call(undefined, 'deb');
  const config = parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as { deb: { depends: string[] } };
  const depends = config.deb.depends;
  assert.deepEqual(depends.slice(0, defaults.length), defaults, 'the defaults first, unchanged');
  // Each tss2 library the addon links comes from a package the deb depends on, directly or
  // through one of them (libtss2-sys1 comes with libtss2-esys).
  const ldd = spawnSync('ldd', [join(resources, 'native', 'gatehouse_tpm.node')], { encoding: 'utf8' }).stdout;
  const libs = [...ldd.matchAll(/(libtss2-[^\s]+\.so[^\s]*) => (\S+)/g)].map((m) => m[2]!);
  assert.ok(libs.length >= 4, `the addon links the tss2 libraries:\n${ldd}`);
  const reachable = new Set(depends);
  for (const dep of depends.filter((d) => d.startsWith('libtss2-'))) {
    const deps = spawnSync('apt-cache', ['depends', dep], { encoding: 'utf8' }).stdout;
    for (const m of deps.matchAll(/Depends: (\S+)/g)) reachable.add(m[1]!);
  }
  for (const lib of libs) {
    const owner = spawnSync('dpkg', ['-S', lib.replace(/^\/lib\//, '/usr/lib/')], { encoding: 'utf8' }).stdout;
    const pkg = owner.split(':')[0]!.trim();
    assert.ok(pkg, `dpkg knows which package has ${lib}`);
    assert.ok(reachable.has(pkg), `${lib} (package ${pkg}) is installed by the deb's depends`);
  }
});
