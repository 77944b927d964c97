// The native code the Electron main process loads, and how it is rebuilt against Electron's
// headers before electron-builder packs it (scripts/electron-before-build.mjs runs this).
//
// What main loads was read from the main bundle (dist/electron/main.cjs, scripts/build-electron.mjs):
// its only non-builtin require()s are `electron`, `node-pty` (local terminals) and `ssh2`; ssh2 in
// turn loads its optional `lib/protocol/crypto/build/Release/sshcrypto.node` and `cpu-features`.
// The TPM addon (native/) is loaded by path from resources/native (app-paths.ts). better-sqlite3 is
// the cluster's and never loaded by main, so it is neither rebuilt nor packed.
// scripts/integration/electron-package.test.ts checks this list against a fresh bundle.
//
// Why not electron-builder's own rebuild (npmRebuild): it rebuilds every native dependency,
// better-sqlite3 included, takes npm's nodedir (npm_config_nodedir, the Node headers scripts/node-lts.sh sets) and so compiles against the
// system Node's headers instead of Electron's, and it never finds ssh2's binding, whose
// binding.gyp is not at the package root.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The packages main.cjs requires at run time (left external by build-electron.mjs). */
export const MAIN_EXTERNAL_PACKAGES = ['node-pty', 'ssh2'];

/** Rebuilt with @electron/rebuild (binding.gyp at the package root). */
export const REBUILD_MODULES = ['node-pty', 'cpu-features'];

/**
 * node-gyp projects @electron/rebuild does not see: ssh2's crypto binding (not at ssh2's root)
 * and the TPM addon (not a package). Paths relative to the project root.
 */
export const GYP_DIRS = ['node_modules/ssh2/lib/protocol/crypto', 'native'];

/** Packages with native code main never loads: kept out of the rebuild and of app.asar. */
export const NOT_FOR_MAIN = ['better-sqlite3'];

export const ELECTRON_HEADERS_URL = 'https://electronjs.org/headers';

/** The Electron version installed in node_modules (the one electron-builder packages). */
export function installedElectronVersion(root) {
  return JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
}

/**
 * The environment for node-gyp without npm's nodedir: scripts/node-lts.sh sets npm_config_nodedir for the Node
 * builds, and node-gyp prefers it over --target, which would build against Node's ABI again.
 */
export function electronGypEnv(env) {
  return Object.fromEntries(Object.entries(env).filter(([name]) => name.toLowerCase() !== 'npm_config_nodedir'));
}

/** node-gyp arguments that build for Electron `version` (what @electron/rebuild passes too). */
export function electronGypArgs(version, arch) {
  return [
    'rebuild',
    '--runtime=electron',
    `--target=${version}`,
    `--arch=${arch}`,
    `--dist-url=${ELECTRON_HEADERS_URL}`,
    // @electron/rebuild's header cache, so both download the headers once.
    `--devdir=${join(homedir(), '.electron-gyp')}`,
  ];
}

/** The @electron/rebuild options for the packages main loads. */
export function electronRebuildOptions({ root, version, arch }) {
  return {
    buildPath: root,
    electronVersion: version,
    arch,
    onlyModules: REBUILD_MODULES,
    force: true,
    mode: 'sequential',
    buildFromSource: true,
  };
}

/**
 * Rebuilds, in place, what main loads for Electron `version`. Run on a machine with network
 * access (the headers are downloaded once into ~/.electron-gyp). The tree's copies then suit
 * Electron, not Node: `npm rebuild && node scripts/build-native.mjs` brings the Node builds back.
 * `rebuild` (@electron/rebuild's) and `spawn` (spawnSync) are parameters for the unit test.
 */
export async function rebuildForElectron({
  root,
  version = installedElectronVersion(root),
  arch = process.arch,
  rebuild = undefined,
  spawn = spawnSync,
}) {
  const electronRebuild = rebuild ?? (await import('@electron/rebuild')).rebuild;
  const savedEnv = { ...process.env };
  // @electron/rebuild forks node-gyp with process.env: drop npm's nodedir for the duration.
  for (const name of Object.keys(process.env)) {
    if (name.toLowerCase() === 'npm_config_nodedir') delete process.env[name];
  }
  try {
    await electronRebuild(electronRebuildOptions({ root, version, arch }));
  } finally {
    Object.assign(process.env, savedEnv);
  }
  const nodeGyp = join(root, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  for (const dir of GYP_DIRS) {
    const r = spawn(process.execPath, [nodeGyp, ...electronGypArgs(version, arch)], {
      cwd: join(root, dir),
      env: electronGypEnv(process.env),
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error(`rebuilding ${dir} for Electron ${version} failed (node-gyp exit ${r.status})`);
  }
}

/**
 * Every package app.asar's node_modules holds: those main.cjs requires and what they require at
 * run time (ssh2: asn1 → safer-buffer, bcrypt-pbkdf → tweetnacl, the optional cpu-features).
 * Build-time-only dependencies (nan, node-addon-api, buildcheck) stay out. Mirrors the
 * exclusion in electron-builder.yml; the integration test checks both against the package.
 */
export const MAIN_RUNTIME_PACKAGES = [
  'asn1',
  'bcrypt-pbkdf',
  'cpu-features',
  'node-pty',
  'safer-buffer',
  'ssh2',
  'tweetnacl',
];
