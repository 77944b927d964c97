// ESLint flat config. Besides the usual TypeScript checks it enforces the process boundaries
// from ARCHITECTURE.md ("Boundaries that lint / tsconfig enforce"); scripts/lint-boundaries.test.ts
// lints snippets at virtual paths so these rules can't silently stop matching.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CODE = ['**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}'];
// What tsconfig.node.json includes; see the 'gatehouse/typed' block.
const TYPED = ['{src-main,src-cluster,src-shared,bench,test-support}/**/*.ts', 'scripts/**/*.ts'];

// --- Boundaries -------------------------------------------------------------------------------
// Rules match the import string, not the resolved file, so a folder is recognised by its name as
// a path segment: `../../src-cluster/x.ts`, `src-cluster/x`, `/abs/src-cluster/x` all match.
// Each restriction is checked for static imports/re-exports (no-restricted-imports) and for
// `import('…')` / `require('…')` with a literal argument (no-restricted-syntax), since the
// native addon is normally loaded through createRequire, which no-restricted-imports ignores.

const nodeBuiltinNames = [...new Set(builtinModules.map((m) => m.replace(/^node:/, '').split('/')[0]))];
const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const testSupportMessage =
  'test-support/ serves the tests of src-main and src-cluster alike and may not depend on either. ' +
  'Keep the helper next to the tests that use it, or drive the code under test through its binaries in bin/.';

const restrict = {
  electronOutsideElectron: {
    regex: '^electron(/.*)?$',
    message:
      'Only src-main/electron/ may import electron, so core/device/gateways also run in the `gate` CLI, ' +
      'the browser host and tests. Keep the Electron glue in src-main/electron/ and pass what the code ' +
      'needs (paths, callbacks, a window handle) in as parameters.',
  },
  nativeOutsideDevice: {
    regex: '(^|/)native(/|$)|\\.node$|^(bindings|node-gyp-build)(/|$)',
    message:
      'Only src-main/device/ loads the native addon (TPM, Secure Enclave, NCrypt). ' +
      'Call the device agent in src-main/device/ instead of loading native/ directly.',
  },
  clusterFromMain: {
    regex: '(^|/)src-cluster(/|$)',
    message:
      'src-main must not import cluster code: the desktop app and `gate` talk to the cluster over the ' +
      'protobuf API only. Use the generated types from proto/gen, or move a small pure helper into src-shared/.',
  },
  mainFromCluster: {
    regex: '(^|/)src-main(/|$)',
    message:
      'src-cluster must not import client (src-main) code. Use the generated types from proto/gen, ' +
      'or move a small pure helper into src-shared/.',
  },
  mainFromShared: {
    regex: '(^|/)src-main(/|$)',
    message:
      'src-shared holds pure helpers used by both sides and may not depend on either. ' +
      'Move the needed code into src-shared/ (or keep the helper in src-main/).',
  },
  clusterFromShared: {
    regex: '(^|/)src-cluster(/|$)',
    message:
      'src-shared holds pure helpers used by both sides and may not depend on either. ' +
      'Move the needed code into src-shared/ (or keep the helper in src-cluster/).',
  },
  // Both sides' tests import test-support/; code there that imported one side would carry that side
  // into the other's tests past the rules above.
  mainFromTestSupport: {
    regex: '(^|/)src-main(/|$)',
    message: testSupportMessage,
  },
  clusterFromTestSupport: {
    regex: '(^|/)src-cluster(/|$)',
    message: testSupportMessage,
  },
  electronFromRenderer: {
    regex: '^electron(/.*)?$',
    message:
      'The renderer is untrusted and talks only to the preload API. Add a channel to the IPC contract ' +
      '(src-main/ipc/) and expose it from the preload in src-main/electron/.',
  },
  nodeFromRenderer: {
    regex: `^(node:.*|(${nodeBuiltinNames.map(escapeRe).join('|')})(/.*)?)$`,
    message:
      'The renderer has no Node.js (it also runs in a plain browser via the browser host). Do the work in the ' +
      'main process and reach it through an IPC channel (src-main/ipc/) and the preload API.',
  },
  mainFromRenderer: {
    regex: '(^|/)src-main(/|$)',
    message:
      'The renderer may not import main-process code; it only sees the preload API (window bridge). ' +
      'Call the operation through the preload API; put pure UI helpers in src-renderer/.',
  },
  ipcTypesFromRenderer: {
    regex: '(^|/)src-main/ipc(/|$)',
    message:
      'The renderer may use only the types of the IPC contract (src-main/ipc/): its zod schemas and main code ' +
      'do not run in the renderer. Use `import type { … }`, and call channels through the preload API.',
  },
  clusterFromRenderer: {
    regex: '(^|/)src-cluster(/|$)',
    message:
      'The renderer may not import cluster code. Ask the main process through the preload API, which talks ' +
      'to the cluster for you.',
  },
  nativeFromRenderer: {
    regex: '(^|/)native(/|$)|\\.node$|^(bindings|node-gyp-build)(/|$)',
    message:
      'The renderer may not load the native addon: it never sees keys or TPM handles. ' +
      'Ask the main process (device agent) through the preload API for status, fingerprints or opaque ids.',
  },
};

// esquery regexes can't contain a literal '/', so '/' is written as \x2F.
const toSelectorRegex = (re) => re.replaceAll('/', '\\x2F');

function boundaryRules(restrictions) {
  const syntax = [];
  for (const r of restrictions) {
    const re = toSelectorRegex(r.regex);
    syntax.push(
      { selector: `ImportExpression[source.value=/${re}/]`, message: r.message },
      { selector: `CallExpression[callee.name='require'][arguments.0.value=/${re}/]`, message: r.message },
    );
  }
  if (restrictions.some((r) => r.message === restrict.nativeOutsideDevice.message)) {
    syntax.push({
      selector: "CallExpression[callee.object.name='process'][callee.property.name='dlopen']",
      message: restrict.nativeOutsideDevice.message,
    });
  }
  return {
    'no-restricted-imports': ['error', { patterns: restrictions.map(({ regex, message }) => ({ regex, message })) }],
    'no-restricted-syntax': ['error', ...syntax],
  };
}

// The renderer's static imports go through typescript-eslint's variant of no-restricted-imports,
// which can let `import type` of the IPC contract through; everything else from src-main stays
// blocked, types included. Dynamic import()/require() keep the full src-main restriction.
function rendererBoundaryRules(nodeRestriction) {
  const imports = [
    restrict.electronFromRenderer,
    nodeRestriction,
    { ...restrict.mainFromRenderer, regex: '(^|/)src-main(/(?!ipc(/|$))|$)' },
    restrict.clusterFromRenderer,
    restrict.nativeFromRenderer,
  ];
  return {
    ...boundaryRules([
      restrict.electronFromRenderer,
      nodeRestriction,
      restrict.mainFromRenderer,
      restrict.clusterFromRenderer,
      restrict.nativeFromRenderer,
    ]),
    'no-restricted-imports': 'off',
    '@typescript-eslint/no-restricted-imports': [
      'error',
      {
        patterns: [
          ...imports.map(({ regex, message }) => ({ regex, message })),
          { ...restrict.ipcTypesFromRenderer, allowTypeImports: true },
        ],
      },
    ],
  };
}

// A later block replaces an earlier block's options for the same rule, so every block lists the
// full set for its folder; blocks go from general to specific.
const boundaries = [
  {
    name: 'gatehouse/boundaries/default',
    files: CODE,
    rules: boundaryRules([restrict.electronOutsideElectron, restrict.nativeOutsideDevice]),
  },
  {
    name: 'gatehouse/boundaries/src-main',
    files: ['src-main/**'],
    rules: boundaryRules([restrict.electronOutsideElectron, restrict.nativeOutsideDevice, restrict.clusterFromMain]),
  },
  {
    name: 'gatehouse/boundaries/src-main/electron',
    files: ['src-main/electron/**'],
    rules: boundaryRules([restrict.nativeOutsideDevice, restrict.clusterFromMain]),
  },
  {
    name: 'gatehouse/boundaries/src-main/device',
    files: ['src-main/device/**'],
    rules: boundaryRules([restrict.electronOutsideElectron, restrict.clusterFromMain]),
  },
  {
    name: 'gatehouse/boundaries/src-cluster',
    files: ['src-cluster/**'],
    rules: boundaryRules([restrict.electronOutsideElectron, restrict.nativeOutsideDevice, restrict.mainFromCluster]),
  },
  {
    name: 'gatehouse/boundaries/src-shared',
    files: ['src-shared/**'],
    rules: boundaryRules([
      restrict.electronOutsideElectron,
      restrict.nativeOutsideDevice,
      restrict.mainFromShared,
      restrict.clusterFromShared,
    ]),
  },
  {
    name: 'gatehouse/boundaries/test-support',
    files: ['test-support/**'],
    rules: boundaryRules([
      restrict.electronOutsideElectron,
      restrict.nativeOutsideDevice,
      restrict.mainFromTestSupport,
      restrict.clusterFromTestSupport,
    ]),
  },
  {
    name: 'gatehouse/boundaries/src-renderer',
    files: ['src-renderer/**'],
    rules: rendererBoundaryRules(restrict.nodeFromRenderer),
  },
  {
    // The renderer's unit tests run under node:test; they may use the test runner and assert, nothing else.
    name: 'gatehouse/boundaries/src-renderer/tests',
    files: ['src-renderer/**/*.test.ts'],
    rules: rendererBoundaryRules({
      ...restrict.nodeFromRenderer,
      regex: `^(?!node:(test|assert)(/strict)?$)${restrict.nodeFromRenderer.regex.slice(1)}`,
    }),
  },
  {
    // The addon's own tests and loader live next to it.
    name: 'gatehouse/boundaries/native',
    files: ['native/**'],
    rules: boundaryRules([restrict.electronOutsideElectron]),
  },
];

// --- Globals for plain JS files (TS files get them from the type checker) ----------------------
const readonly = (names) => Object.fromEntries(names.map((n) => [n, 'readonly']));
const nodeGlobals = readonly([
  'process', 'console', 'Buffer', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder', 'AbortController',
  'AbortSignal', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
  'queueMicrotask', 'structuredClone', 'fetch', 'globalThis', 'performance', 'crypto', 'Event', 'EventTarget',
]); // prettier-ignore

export default [
  {
    name: 'gatehouse/ignores',
    ignores: ['**/node_modules/**', 'proto/gen/**', '**/dist/**', '**/out/**', '.notes/**', '.data/**', 'coverage/**', 'playwright-report/**', 'test-results/**', '.bench/**', 'vendor/**'],
  },
  { ...js.configs.recommended, name: 'eslint/recommended', files: CODE },
  ...tseslint.configs.recommended,
  {
    name: 'gatehouse/js-globals',
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: nodeGlobals },
  },
  {
    name: 'gatehouse/style',
    files: CODE,
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // `_`-prefixed names are deliberately unused (callback signatures, destructuring to omit a key).
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // Type-aware checks for the async bugs that crash a daemon (unhandled rejections) or skip an
    // await. Limited to files tsconfig.node.json covers: the project service can't type files
    // outside a tsconfig (add src-renderer / src-main/electron here once they have their tsconfigs).
    name: 'gatehouse/typed',
    files: TYPED,
    ignores: ['src-main/electron/**'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: fileURLToPath(new URL('.', import.meta.url)) },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner tracks itself.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },
  ...boundaries,
];
