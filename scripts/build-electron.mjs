#!/usr/bin/env node
// Bundles the Electron main process and preload with esbuild:
//   src-main/electron/main.ts    → dist/electron/main.cjs     (Node inside Electron)
//   src-main/electron/preload.ts → dist/electron/preload.cjs  (sandboxed preload)
// Electron loads CommonJS entry points without a loader for TypeScript, so this build is what
// `electron dist/electron/main.cjs` and electron-builder run. The renderer is built by Vite into
// dist/renderer; main.cjs expects it at ../renderer/index.html.
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
// --outdir DIR: tests build into a temp dir instead of dist/electron.
const outArg = process.argv.indexOf('--outdir');
const outdir =
  outArg > 0 && process.argv[outArg + 1] ? resolve(process.argv[outArg + 1]) : join(root, 'dist', 'electron');

// Native addons (and packages that load them relative to their own files) stay in node_modules;
// electron-builder rebuilds them for Electron's ABI and unpacks them from the asar.
// ssh2 is the vendored fork (vendor/ssh2) installed into node_modules; it must be that copy.
const nativeExternals = ['better-sqlite3', 'node-pty', 'ssh2', 'cpu-features', '*.node'];

const common = {
  bundle: true,
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
  legalComments: 'none',
};

await build({
  ...common,
  entryPoints: { main: 'src-main/electron/main.ts' },
  outdir,
  outExtension: { '.js': '.cjs' },
  platform: 'node',
  // Electron 45 ships Node 22.
  target: 'node22',
  external: ['electron', ...nativeExternals],
  // CommonJS has no import.meta: give code that resolves files next to itself the bundle's URL.
  banner: { js: "const __gatehouseImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  define: { 'import.meta.url': '__gatehouseImportMetaUrl' },
});

await build({
  ...common,
  entryPoints: { preload: 'src-main/electron/preload.ts' },
  outdir,
  outExtension: { '.js': '.cjs' },
  // A sandboxed preload has no Node: 'browser' makes esbuild refuse a node:* import at build time
  // instead of the preload failing at run time. Electron's own module is the one thing required.
  platform: 'browser',
  target: 'chrome140',
  external: ['electron'],
});

// The sandbox's require() knows only 'electron' (and a few polyfills); anything else would throw
// when the window opens, so check the output rather than trusting the bundle config.
const preload = readFileSync(join(outdir, 'preload.cjs'), 'utf8');
const required = [...preload.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => m[1]);
const unexpected = required.filter((name) => name !== 'electron');
if (unexpected.length > 0) {
  console.error(`preload.cjs requires ${unexpected.join(', ')}; a sandboxed preload can only require "electron"`);
  process.exit(1);
}
console.log(`built ${relative(root, join(outdir, 'main.cjs'))} and ${relative(root, join(outdir, 'preload.cjs'))}`);
