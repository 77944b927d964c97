// ESLint flat config: the usual TypeScript checks, the async checks that matter for a daemon, and
// the one process boundary dependency-cruiser cannot see (see "Boundaries" below);
// scripts/lint-boundaries.test.ts lints snippets at virtual paths so it can't silently stop matching.
import { fileURLToPath } from 'node:url';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const CODE = ['**/*.{ts,tsx,mts,cts,js,jsx,mjs,cjs}'];
// What tsconfig.node.json includes; see the 'gatehouse/typed' block.
const TYPED = ['{src-main,src-cluster,src-shared,bench,test-support}/**/*.ts', 'scripts/**/*.ts'];

// --- Boundaries -------------------------------------------------------------------------------
// The process boundaries and layers (src-main ⇄ src-cluster, src-shared and test-support neutral,
// the renderer's limits, electron only in src-main/electron/, no cycles) are dependency-cruiser rules
// in .dependency-cruiser.mjs (`npm run -s deps`): they match resolved files, type-only imports
// included, instead of import strings. Lint keeps the one boundary a module graph cannot see: the
// native addon loaded by `process.dlopen` or by a path to a `.node` file that is not built yet.
// Checked for static imports/re-exports (no-restricted-imports) and for `import('…')` /
// `require('…')` with a literal argument (no-restricted-syntax), since the addon is normally
// loaded through createRequire, which no-restricted-imports ignores.

const nativeOutsideDevice = {
  // A folder is recognised by its name as a path segment: `../../native/x`, `/abs/native/x`.
  regex: '(^|/)native(/|$)|\\.node$|^(bindings|node-gyp-build)(/|$)',
  message:
    'Only src-main/device/ loads the native addon (TPM, Secure Enclave, NCrypt). ' +
    'Call the device agent in src-main/device/ instead of loading native/ directly.',
};

// esquery regexes can't contain a literal '/', so '/' is written as \x2F.
const selectorRegex = nativeOutsideDevice.regex.replaceAll('/', '\\x2F');

const boundaries = [
  {
    name: 'gatehouse/boundaries/native-outside-device',
    files: CODE,
    ignores: ['src-main/device/**', 'native/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [nativeOutsideDevice] }],
      'no-restricted-syntax': [
        'error',
        { selector: `ImportExpression[source.value=/${selectorRegex}/]`, message: nativeOutsideDevice.message },
        {
          selector: `CallExpression[callee.name='require'][arguments.0.value=/${selectorRegex}/]`,
          message: nativeOutsideDevice.message,
        },
        {
          selector: "CallExpression[callee.object.name='process'][callee.property.name='dlopen']",
          message: nativeOutsideDevice.message,
        },
      ],
    },
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
    ignores: [
      '**/node_modules/**',
      'proto/gen/**',
      '**/dist/**',
      '**/out/**',
      '.notes/**',
      '.data/**',
      'coverage/**',
      'playwright-report/**',
      'test-results/**',
      '.bench/**',
    ],
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
