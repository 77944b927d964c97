#!/usr/bin/env node
// Bundles the executables with esbuild, so they start without transpiling TypeScript at run time:
//   src-main/cli/gate.ts          → dist/cli/gate.mjs       (bin/gate.mjs runs it)
//   src-cluster/cli/gatectl.ts    → dist/cli/gatectl.mjs    (bin/gatectl.mjs)
//   src-cluster/cli/gatehouse.ts  → dist/cli/gatehouse.mjs  (bin/gatehouse.mjs)
//   src-main/host/main.ts         → dist/cli/app-host.mjs   (the browser host, `npm start`)
// Runs at install time (scripts/postinstall.mjs) and as `npm run build:cli`.
//
// - ESM with code splitting: a command's `await import()` becomes a chunk that loads only when
//   the command runs, so `--version`/`--help` never parse the network stacks.
// - npm packages stay in node_modules and are resolved at run time (native addons, ssh2's vendored
//   copy, pino's worker files all load relative to themselves), except BUNDLED_PACKAGES: pure
//   JavaScript whose many small files cost more to resolve and load than to parse once (zod 4
//   loads ~95 modules, every locale included, ~80 ms before the host could listen).
// - Every output file lands directly in the out dir: `new URL('<relative>', import.meta.url)` in
//   the sources is rewritten to the same target relative to that dir (see importMetaUrlPlugin).
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { build } from 'esbuild';

const root = resolve(new URL('..', import.meta.url).pathname);

export const CLI_ENTRY_POINTS = {
  gate: 'src-main/cli/gate.ts',
  gatectl: 'src-cluster/cli/gatectl.ts',
  gatehouse: 'src-cluster/cli/gatehouse.ts',
  'app-host': 'src-main/host/main.ts',
};

export const DEFAULT_OUT_DIR = join(root, 'dist', 'cli');

/** `new URL('../../x', import.meta.url)` with a literal relative path (what the sources use). */
const RELATIVE_URL = /new URL\(\s*(['"])(\.{1,2}\/[^'"]*)\1\s*,\s*import\.meta\.url\s*\)/g;

/**
 * Sources find files next to themselves (package.json, the TPM addon, the repo root) with
 * `new URL(relative, import.meta.url)`. In the bundle import.meta.url is the output file's, so
 * each such path is recomputed from the out dir to the file the source meant. Any other use of
 * import.meta.url (createRequire) resolves packages, which works from any folder in the repo.
 */
function importMetaUrlPlugin(outdir) {
  return {
    name: 'gatehouse-import-meta-url',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.url')) return undefined;
        const contents = source.replace(RELATIVE_URL, (_, quote, rel) => {
          const target = resolve(dirname(args.path), rel);
          let fromOut = relative(outdir, target).split(sep).join('/');
          if (!fromOut.startsWith('.')) fromOut = `./${fromOut}`;
          if (rel.endsWith('/') && !fromOut.endsWith('/')) fromOut += '/';
          return `new URL(${quote}${fromOut}${quote}, import.meta.url)`;
        });
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * npm packages compiled into the bundles instead of loaded from node_modules (see the header).
 * Connect and protobuf-es: every command that calls the cluster loads them, and as 144 separate
 * ES modules their resolving and linking cost ~290 ms of CPU per run (gatectl users ls: 660 ms
 * CPU → 370 ms bundled, p50 of 9 runs). All three or none: Connect imports protobuf-es, and two
 * copies of a package (one bundled, one from node_modules) would not share its classes.
 */
export const BUNDLED_PACKAGES = [
  'commander',
  'zod',
  '@bufbuild/protobuf',
  '@connectrpc/connect',
  '@connectrpc/connect-node',
];

/** Every bare import stays external (as esbuild's packages: 'external') but BUNDLED_PACKAGES. */
function externalPackagesPlugin() {
  const packageOf = (spec) =>
    spec
      .split('/')
      .slice(0, spec.startsWith('@') ? 2 : 1)
      .join('/');
  return {
    name: 'external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) =>
        BUNDLED_PACKAGES.includes(packageOf(args.path)) ? undefined : { path: args.path, external: true },
      );
    },
  };
}

/**
 * Connect's Node transport imports `node:http` for HTTP/1.1, which our clients never use (they
 * speak HTTP/2). An ES import of `node:http` is not free: Node's ES facade of a builtin reads every
 * export, and node:http's WebSocket/MessageEvent exports are getters that load all of undici
 * (Node's fetch), ~80-120 ms of CPU in every command that makes an RPC. So inside that package
 * `node:http` is a module whose `request` loads node:http through require on first use (CommonJS
 * leaves the getters alone): the same function, loaded only if HTTP/1.1 is ever asked for.
 */
export const LAZY_HTTP_IMPORTERS = /[\\/]@connectrpc[\\/]connect-node[\\/]/;
const LAZY_HTTP_MODULE = `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
export function request(...args) {
  return require('node:http').request(...args);
}`;

function lazyHttpPlugin() {
  return {
    name: 'lazy-node-http',
    setup(b) {
      b.onResolve({ filter: /^(node:)?http$/ }, (args) =>
        LAZY_HTTP_IMPORTERS.test(args.importer) ? { path: 'lazy-node-http', namespace: 'lazy-node-http' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'lazy-node-http' }, () => ({ contents: LAZY_HTTP_MODULE, loader: 'js' }));
    },
  };
}

/**
 * commander is CommonJS: bundled into ES modules, its require() of Node builtins needs a
 * `require` in scope (esbuild's shim throws without one). esbuild renames any bundled top-level
 * `require` away from this name, so the banner cannot collide.
 */
const REQUIRE_BANNER = `import { createRequire as __gatehouseCreateRequire } from 'node:module';
const require = __gatehouseCreateRequire(import.meta.url);`;

/**
 * commander requires node:child_process at load for executable subcommands (`git-style`
 * commands in separate files), which none of our programs declare; loading it costs ~6-10 ms of
 * every start (--version included). Inside commander it is an object whose `spawn` requires the
 * builtin on first use.
 */
const LAZY_CHILD_PROCESS_IMPORTER = /[\\/]node_modules[\\/]commander[\\/]/;
const LAZY_CHILD_PROCESS_MODULE = `module.exports = {
  spawn: (...args) => require('node:child_process').spawn(...args),
};`;

function lazyChildProcessPlugin() {
  return {
    name: 'lazy-child-process',
    setup(b) {
      b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
        LAZY_CHILD_PROCESS_IMPORTER.test(args.importer)
          ? { path: 'lazy-child-process', namespace: 'lazy-child-process' }
          : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'lazy-child-process' }, () => ({
        contents: LAZY_CHILD_PROCESS_MODULE,
        loader: 'js',
      }));
    },
  };
}

/** Builds every executable into `outdir` (emptied first). Resolves to esbuild's metafile. */
export async function buildCli(outdir = DEFAULT_OUT_DIR) {
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    entryPoints: CLI_ENTRY_POINTS,
    absWorkingDir: root,
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    // The supported Node (the project moves to Node 24 LTS); esbuild lowers nothing Node 22 runs.
    target: 'node22',
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunk-[hash]',
    sourcemap: 'linked',
    legalComments: 'none',
    banner: { js: REQUIRE_BANNER },
    metafile: true,
    logLevel: 'warning',
    plugins: [lazyHttpPlugin(), lazyChildProcessPlugin(), externalPackagesPlugin(), importMetaUrlPlugin(outdir)],
  });
  return result.metafile;
}

const invokedDirectly = process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname);
if (invokedDirectly) {
  // --outdir DIR: tests build into a scratch dir instead of dist/cli; --metafile FILE: esbuild's
  // account of what each output imports (the tests check the start-up import graph with it).
  const argOf = (flag) => {
    const i = process.argv.indexOf(flag);
    return i > 0 && process.argv[i + 1] ? resolve(process.argv[i + 1]) : undefined;
  };
  const outdir = argOf('--outdir') ?? DEFAULT_OUT_DIR;
  const metafile = await buildCli(outdir);
  const metafilePath = argOf('--metafile');
  if (metafilePath) writeFileSync(metafilePath, JSON.stringify(metafile));
  const missing = Object.keys(CLI_ENTRY_POINTS).filter((name) => !existsSync(join(outdir, `${name}.mjs`)));
  if (missing.length > 0) {
    console.error(`build-cli: ${missing.join(', ')} missing from ${outdir} after the build`);
    process.exit(1);
  }
  console.log(`built ${Object.keys(CLI_ENTRY_POINTS).join(', ')} into ${relative(root, outdir) || '.'}`);
}
