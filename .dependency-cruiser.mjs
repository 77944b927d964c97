// Dependency rules the tooling enforces (ARCHITECTURE.md "Boundaries that lint / tsconfig enforce",
// issue 12 item 5). `npm run -s deps` runs them in `npm test`; scripts/dependency-rules.test.ts plants
// a cycle and back-edges in a copy of the tree to prove they still fail.
//
// The rules match resolved files, not import strings, so `../x`, re-exports, `import type` and
// `import()` are all seen the same way. Type-only imports count (tsPreCompilationDeps): a type from a
// higher layer couples the code just as much, it only fails later.
//
// A folder not listed in a layer table below fails `*-unlayered-folder`: a new folder has to say
// where it sits before it can import anything.

/** Tests and what only tests use. Production code may not import these; the layer rules skip them. */
const TEST_CODE = '[.]test[.]tsx?$|(^|/)(integration|security|testdata|test-support)/';

// --- Layers -------------------------------------------------------------------------------------
// Lowest first. A folder may import folders of lower layers only; folders that share a layer are
// independent of each other. Decided from what the code imports today (issue 12 names the order
// storage → resources → auth/authz → services → daemon and core → device/gateways → app → ipc →
// electron/host/cli; where the code disagreed with a reading of those arrows, the code's direction
// was kept when it is the sound one, and the back-edges that disagreed were removed from the code).
const CLUSTER_LAYERS = [
  // Infrastructure: the logger and the storage backend know nothing of the cluster's concepts.
  ['log', 'storage'],
  // The bounds and guards every listener applies (connections per source, handshake and idle
  // timeouts, sizes) and how a listener binds; the API, the proxy and the node all use them, so
  // they know none of those.
  ['limits'],
  // Resource kinds: records, their schemas and validation, and the hooks a kind may add to CRUD.
  ['resources'],
  // The audit log: every layer above records into it (auth logins, lock changes, the authorizer's
  // denials), so it may not depend on any of them; it asks the authorizer through an interface.
  ['audit'],
  // Locks: lock records → targets and the lock view. Below auth because auth's lockout creates locks.
  ['locks'],
  // One authorizer: identity from the certificate, locks, roles, device trust → a decision.
  ['authz'],
  // The auth server's own logic: CAs, certificate issuing, logins (which ask the authorizer).
  ['auth'],
  // Auth-side domain services built on auth: device trust ceremonies and inventory, join tokens.
  ['devicetrust', 'join'],
  // The Connect RPC surface of auth (handlers, error mapping, peer identity).
  ['api'],
  // Runtime of a service joined to auth: host identity, API client, watched cache, remote audit.
  ['service'],
  // Operations: metrics, health checks, the diagnostics listener, auth's presence heartbeat; it
  // decorates storage and the audit log, and the compositions above hand it to each service.
  ['ops'],
  // The access services; the proxy, the node and the db service share nothing but what lies below
  // them (the proxy reaches the db service over the wire, with src-shared/db-route.ts).
  ['node', 'proxy', 'db', 'app'],
  // Composition of the services into one process (any topology).
  ['daemon'],
  // gatehouse / gatectl.
  ['cli'],
];

const MAIN_LAYERS = [
  // Talks to the TPM/OS and runs the device ceremonies; knows no profile or cluster client.
  ['device'],
  // The client core: profiles, cluster client, trust decisions, enrollment records.
  ['core'],
  // Gateways: a local listener or an SSH session → TLS to the proxy's route for one kind of access.
  // Above core because each connection takes its certificate and pinned CA from the core's profile.
  ['gateways'],
  // The IPC contract (channels, zod schemas, error shape) and its dispatcher; the app implements it.
  ['ipc'],
  // The app's services as one window/host sees them.
  ['app'],
  // Entry points: the Electron shell, the browser host, the `gate` CLI.
  ['electron', 'host', 'cli'],
];

// --- Rule builders ------------------------------------------------------------------------------
const anyOf = (folders) => `(${folders.join('|')})`;

/** One rule per folder: it may import its own folder and lower layers only. */
function layerRules(root, layers, side) {
  const rules = [];
  layers.forEach((layer, i) => {
    const lower = layers.slice(0, i).flat();
    for (const folder of layer) {
      const notAllowed = [...layers.slice(i + 1).flat(), ...layer.filter((f) => f !== folder)];
      if (notAllowed.length === 0) continue;
      rules.push({
        name: `${side}-layers/${folder}`,
        comment:
          `${root}/${folder} may import ${lower.length ? lower.join(', ') : 'no other folder of ' + root} ` +
          `(and src-shared, proto/gen). Move what both need down a layer, or pass it in as a parameter.`,
        severity: 'error',
        from: { path: `^${root}/${folder}/`, pathNot: TEST_CODE },
        to: { path: `^${root}/${anyOf(notAllowed)}/` },
      });
    }
  });
  const known = ['integration', 'test-support', ...layers.flat()];
  rules.push({
    name: `${side}-unlayered-folder`,
    comment: `every folder of ${root} belongs to one layer in .dependency-cruiser.mjs (${side.toUpperCase()}_LAYERS)`,
    severity: 'error',
    from: { path: `^${root}/`, pathNot: [`^${root}/${anyOf(known)}/`, TEST_CODE] },
    to: {},
  });
  return rules;
}

/** What the renderer's unit tests (node:test) may import from Node. */
const NODE_TEST_MODULES = '^(node:)?(test|assert|assert/strict)$';

// --- Boundaries between the processes -----------------------------------------------------------
const boundaryRules = [
  {
    name: 'no-circular',
    comment: 'No import cycles anywhere: a cycle has no lowest layer to test, start or reuse alone.',
    severity: 'error',
    from: {},
    to: { circular: true },
  },
  {
    name: 'production-imports-test-code',
    comment:
      'Production code may not import tests or test helpers (test-support/, integration/, security/, ' +
      '*.test.ts): fakes would ship and real behaviour would depend on them. Move the shared piece into production code.',
    severity: 'error',
    from: { path: '^src-(main|cluster|shared|renderer)/', pathNot: TEST_CODE },
    to: { path: TEST_CODE },
  },
  {
    name: 'main-imports-cluster',
    comment:
      'src-main talks to the cluster over the protobuf API only: use proto/gen types, or move a small pure ' +
      'helper into src-shared/.',
    severity: 'error',
    from: { path: '^src-main/' },
    to: { path: '^src-cluster/' },
  },
  {
    name: 'cluster-imports-main',
    comment:
      'src-cluster may not import client code: use proto/gen types, or move a small pure helper into src-shared/.',
    severity: 'error',
    from: { path: '^src-cluster/' },
    to: { path: '^src-main/' },
  },
  {
    name: 'shared-imports-a-side',
    comment: 'src-shared holds pure helpers used by every side and may depend on none of them.',
    severity: 'error',
    from: { path: '^src-shared/' },
    to: { path: '^(src-main|src-cluster|src-renderer|native)/' },
  },
  {
    name: 'test-support-imports-a-side',
    comment:
      'test-support/ serves the tests of src-main and src-cluster alike and may not depend on either; ' +
      'side-specific helpers go to src-main/test-support/ or src-cluster/test-support/.',
    severity: 'error',
    from: { path: '^test-support/' },
    to: { path: '^(src-main|src-cluster|src-renderer)/' },
  },
  {
    name: 'renderer-imports-privileged-code',
    comment:
      'The renderer is untrusted and also runs in a plain browser: no electron, Node built-ins, cluster code or ' +
      'native addon. Reach them through the preload API and an IPC channel (src-main/ipc/).',
    severity: 'error',
    from: { path: '^src-renderer/' },
    to: { path: '^(src-cluster|native)/|(^|/)node_modules/electron/' },
  },
  {
    name: 'renderer-imports-node',
    comment: 'The renderer has no Node.js; its unit tests may use node:test and node:assert only.',
    severity: 'error',
    from: { path: '^src-renderer/' },
    to: { dependencyTypes: ['core'], pathNot: NODE_TEST_MODULES },
  },
  {
    name: 'renderer-imports-node-test',
    comment: 'Only the renderer unit tests may use node:test and node:assert.',
    severity: 'error',
    from: { path: '^src-renderer/', pathNot: '[.]test[.]tsx?$' },
    to: { dependencyTypes: ['core'], path: NODE_TEST_MODULES },
  },
  {
    name: 'renderer-imports-main',
    comment:
      'The renderer sees main only through the preload API; it may import the IPC contract (src-main/ipc/) ' +
      'with `import type`, nothing else from src-main.',
    severity: 'error',
    from: { path: '^src-renderer/' },
    to: { path: '^src-main/', pathNot: '^src-main/ipc/' },
  },
  {
    name: 'renderer-imports-ipc-values',
    comment: 'Use `import type` for the IPC contract: its zod schemas and main code do not run in the renderer.',
    severity: 'error',
    from: { path: '^src-renderer/' },
    to: { path: '^src-main/ipc/', dependencyTypesNot: ['type-only'] },
  },
  {
    name: 'electron-outside-src-main-electron',
    comment:
      'Only src-main/electron/ imports electron, so core/device/gateways also run in `gate`, the browser host ' +
      'and tests. Pass what the code needs (paths, callbacks) in as parameters.',
    severity: 'error',
    from: { pathNot: '^src-main/electron/' },
    to: { path: '(^|/)node_modules/electron/' },
  },
  {
    name: 'native-outside-src-main-device',
    comment: 'Only src-main/device/ loads the native addon (TPM, Secure Enclave, NCrypt); call the device agent.',
    severity: 'error',
    from: { pathNot: '^(src-main/device|native)/' },
    to: { path: '^native/|[.]node$|(^|/)node_modules/(bindings|node-gyp-build)/' },
  },
  {
    name: 'not-to-unresolvable',
    comment: 'An import that does not resolve is a typo or a missing package; rules cannot check what they cannot see.',
    severity: 'error',
    from: {},
    to: { couldNotResolve: true },
  },
];

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...boundaryRules,
    ...layerRules('src-cluster', CLUSTER_LAYERS, 'cluster'),
    ...layerRules('src-main', MAIN_LAYERS, 'main'),
  ],
  options: {
    doNotFollow: { path: ['node_modules', '^proto/gen/'] },
    exclude: { path: '(^|/)(dist|out)/' },
    tsPreCompilationDeps: true,
    // All tsconfig.*.json share these compilerOptions; no `paths` today, but if one appears it is
    // read from here (and from the projects that extend it).
    tsConfig: { fileName: 'tsconfig.base.json' },
    // Resolve packages through their `exports` maps (e.g. @connectrpc/connect/protocol), the way Node does.
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'types', 'default'],
      extensions: ['.ts', '.tsx', '.mts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
