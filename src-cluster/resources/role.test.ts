import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { createDefaultRegistry } from './kinds.ts';
import { parseResources } from './parse.ts';
import { loginTemplateTrait, newRole, presetRoles, REQUIRE_TRUSTED_DEVICE_ROLE, type RoleSpec } from './role.ts';

const registry = createDefaultRegistry();

function problems(spec: string): string[] {
  const text = `kind: role\nversion: v7\nmetadata: {name: dev}\nspec:\n${spec}`;
  try {
    parseResources(text, registry);
  } catch (e) {
    assert.ok(e instanceof GatehouseError);
    return e.message.split('\n');
  }
  return [];
}

test('a full role parses with every field kept in schema order', () => {
  const text = [
    'spec:',
    '  options: {max_session_ttl: 1h30m}',
    '  deny: {logins: [root]}',
    '  allow:',
    '    rules: [{resources: [role, user], verbs: [list, read]}]',
    "    node_labels: {env: ['prod-*', staging], team: '*'}",
    "    logins: ['{{internal.logins}}', ubuntu]",
    'metadata: {labels: {owner: ops}, description: developers, name: dev}',
    'version: v7',
    'kind: role',
  ].join('\n');
  const [role] = parseResources(text, registry);
  assert.deepEqual(role, {
    kind: 'role',
    version: 'v7',
    metadata: { name: 'dev', description: 'developers', labels: { owner: 'ops' } },
    spec: {
      allow: {
        logins: ['{{internal.logins}}', 'ubuntu'],
        node_labels: { env: ['prod-*', 'staging'], team: '*' },
        rules: [{ resources: ['role', 'user'], verbs: ['list', 'read'] }],
      },
      deny: { logins: ['root'] },
      options: { max_session_ttl: '1h30m' },
    },
  });
  assert.deepEqual(Object.keys(role!), ['kind', 'version', 'metadata', 'spec']);
  assert.deepEqual(Object.keys((role!.spec as RoleSpec).allow!), ['logins', 'node_labels', 'rules']);
});

test('templates: only known whole-entry templates are accepted', () => {
  assert.deepEqual(problems('  allow: {logins: ["{{ internal.logins }}"]}\n'), []);
  assert.deepEqual(problems('  allow:\n    logins: ["{{internal.roles}}"]\n'), [
    'role "dev": spec.allow.logins[0]: unknown template "{{internal.roles}}"; supported: {{internal.logins}} (line 6)',
  ]);
  assert.deepEqual(problems('  deny: {logins: ["x-{{internal.logins}}"]}\n'), [
    'role "dev": spec.deny.logins[0]: unknown template "x-{{internal.logins}}"; supported: {{internal.logins}} (line 5)',
  ]);
  assert.equal(loginTemplateTrait('{{internal.logins}}'), 'logins');
  assert.equal(loginTemplateTrait('root'), undefined);
});

test('logins that could read as options or contain spaces are refused', () => {
  assert.deepEqual(problems('  allow: {logins: ["-oProxyCommand=x", "a b"]}\n'), [
    'role "dev": spec.allow.logins[0]: "-oProxyCommand=x" is not a valid login: use 1-64 letters, digits, "_", ".", "@" or "-", not starting with "-", "." or "@" (line 5)',
    'role "dev": spec.allow.logins[1]: "a b" is not a valid login: use 1-64 letters, digits, "_", ".", "@" or "-", not starting with "-", "." or "@" (line 5)',
  ]);
});

test('node_labels: wrong value types, the "*" key and templates', () => {
  assert.deepEqual(problems('  allow:\n    node_labels:\n      env: 3\n'), [
    'role "dev": spec.allow.node_labels.env: expected a string or a list of strings (line 7)',
  ]);
  assert.deepEqual(problems("  allow:\n    node_labels:\n      '*': prod\n"), [
    `role "dev": spec.allow.node_labels["*"]: the "*" key only works as '*': '*' (every node); to match any value of one label write '<label>': '*' (line 7)`,
  ]);
  assert.deepEqual(problems("  allow:\n    node_labels: {env: '{{internal.env}}'}\n"), [
    'role "dev": spec.allow.node_labels.env: templates are not supported in node_labels (line 6)',
  ]);
  assert.deepEqual(problems('  allow:\n    node_labels: [env]\n'), [
    'role "dev": spec.allow.node_labels: expected a mapping of label names to values (line 6)',
  ]);
});

test('rules: verbs and resources are checked', () => {
  assert.deepEqual(problems('  allow:\n    rules:\n      - resources: [role]\n        verbs: [destroy]\n'), [
    'role "dev": spec.allow.rules[0].verbs[0]: expected one of: list, read, create, update, delete, * (line 8)',
  ]);
  assert.deepEqual(problems('  allow:\n    rules:\n      - resources: []\n        verbs: [read]\n'), [
    'role "dev": spec.allow.rules[0].resources: must not be empty (line 7)',
  ]);
  assert.deepEqual(problems('  allow:\n    rules:\n      - verbs: [read]\n'), [
    'role "dev": spec.allow.rules[0].resources: required field is missing (line 7)',
  ]);
  assert.deepEqual(problems('  allow:\n    rules: {resources: [role]}\n'), [
    'role "dev": spec.allow.rules: expected a list of rules, each with resources and verbs (line 6)',
  ]);
});

test('max_session_ttl must be a positive duration string', () => {
  assert.deepEqual(problems('  options:\n    max_session_ttl: 8\n'), [
    'role "dev": spec.options.max_session_ttl: expected a duration such as "8h" or "1h30m" (line 6)',
  ]);
  assert.deepEqual(problems('  options:\n    max_session_ttl: "8"\n'), [
    'role "dev": spec.options.max_session_ttl: "8" has no unit; use a number with a unit (h, m, s, ms), like "8h", "30m" or "1h30m" (line 6)',
  ]);
  assert.deepEqual(problems('  options:\n    max_session_ttl: 0m\n'), [
    'role "dev": spec.options.max_session_ttl: "0m" must be longer than zero (line 6)',
  ]);
});

test('name rules', () => {
  for (const ok of ['a', 'dev', 'ops-2.eu_west', '0day', 'x'.repeat(63)])
    assert.equal(newRole(ok, {}).metadata.name, ok);
  for (const bad of ['', 'Dev', '-rf', '.hidden', '_x', 'a b', 'a/b', 'x'.repeat(64)]) {
    assert.throws(
      () => newRole(bad, {}),
      (e: unknown) =>
        e instanceof GatehouseError && e.code === ErrorCode.INVALID_RESOURCE && e.message.includes('metadata.name'),
      bad,
    );
  }
});

test('newRole refuses invalid specs like parsed input would', () => {
  assert.throws(() => newRole('dev', { allow: { logins: ['{{nope}}'] } }), {
    message: 'role "dev": spec.allow.logins[0]: unknown template "{{nope}}"; supported: {{internal.logins}}',
  });
});

test('preset roles are valid, described, and fresh on every call', () => {
  const presets = presetRoles();
  assert.deepEqual(
    presets.map((r) => r.metadata.name),
    ['access', 'editor', 'require-trusted-device'],
  );
  for (const r of presets) assert.ok(r.metadata.description && r.metadata.description.length > 10);
  assert.deepEqual(presets[0]!.spec.allow, { logins: ['{{internal.logins}}'], node_labels: { '*': '*' } });
  assert.deepEqual(presets[1]!.spec.allow, { rules: [{ resources: ['*'], verbs: ['*'] }] });
  presets[0]!.spec.allow!.logins!.push('root');
  assert.deepEqual(presetRoles()[0]!.spec.allow!.logins, ['{{internal.logins}}']);
});

test('the require-trusted-device preset grants every node with own logins and requires a trusted device', () => {
  const preset = presetRoles().find((r) => r.metadata.name === REQUIRE_TRUSTED_DEVICE_ROLE);
  assert.ok(preset);
  assert.deepEqual(preset.spec, {
    allow: { logins: ['{{internal.logins}}'], node_labels: { '*': '*' } },
    options: { device_trust_mode: 'required' },
  });
});

test('options.device_trust_mode accepts off, optional, required and names them when wrong', () => {
  const doc = (mode: string) =>
    `kind: role\nversion: v7\nmetadata: {name: dt}\nspec:\n  options:\n    device_trust_mode: ${mode}\n`;
  for (const mode of ['off', 'optional', 'required']) {
    const [role] = parseResources(doc(mode), registry);
    assert.equal((role!.spec as RoleSpec).options?.device_trust_mode, mode);
  }
  assert.throws(() => parseResources(doc('required-for-humans'), registry), {
    message: 'role "dt": spec.options.device_trust_mode: expected one of: off, optional, required (line 6)',
  });
  assert.throws(() => parseResources(doc('true'), registry), {
    message: 'role "dt": spec.options.device_trust_mode: expected one of: off, optional, required (line 6)',
  });
  assert.throws(
    () =>
      parseResources(
        'kind: role\nversion: v7\nmetadata: {name: dt}\nspec:\n  options:\n    device_trust: required\n',
        registry,
      ),
    {
      message:
        'role "dt": spec.options.device_trust: unknown field; allowed fields: max_session_ttl, device_trust_mode, max_sessions, disconnect_expired_cert, port_forwarding, forward_agent (line 6)',
    },
  );
});

test('SSH options: max_sessions is a whole number from 1 to 1000; the switches are booleans', () => {
  const [role] = parseResources(
    'kind: role\nversion: v7\nmetadata: {name: s}\nspec:\n  options:\n    max_sessions: 2\n    disconnect_expired_cert: true\n    port_forwarding: true\n    forward_agent: false\n',
    registry,
  );
  assert.deepEqual((role!.spec as RoleSpec).options, {
    max_sessions: 2,
    disconnect_expired_cert: true,
    port_forwarding: true,
    forward_agent: false,
  });
  const range = 'expected a whole number from 1 to 1000 (line 6)';
  for (const bad of ['0', '1001', '2.5', '-1']) {
    assert.deepEqual(
      problems(`  options:\n    max_sessions: ${bad}\n`),
      [`role "dev": spec.options.max_sessions: ${range}`],
      bad,
    );
  }
  assert.deepEqual(problems('  options:\n    max_sessions: "10"\n'), [
    `role "dev": spec.options.max_sessions: ${range}`,
  ]);
  for (const option of ['disconnect_expired_cert', 'port_forwarding', 'forward_agent']) {
    assert.deepEqual(problems(`  options:\n    ${option}: "yes"\n`), [
      `role "dev": spec.options.${option}: expected true or false (line 6)`,
    ]);
  }
});
