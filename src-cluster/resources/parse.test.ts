import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { createDefaultRegistry } from './kinds.ts';
import { parseResource, parseResources } from './parse.ts';

const registry = createDefaultRegistry();

/** Runs `fn`, asserts it throws a GatehouseError and returns it for closer checks. */
function failure(fn: () => unknown): GatehouseError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatehouseError, `expected GatehouseError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected an error');
}

const parse = (text: string) => parseResources(text, registry);

test('wrong type names the kind, name, field and line', () => {
  const text = [
    'kind: role',
    'version: v7',
    'metadata:',
    '  name: dev',
    'spec:',
    '  allow:',
    '    logins: root',
    '',
  ].join('\n');
  const e = failure(() => parse(text));
  assert.equal(e.code, ErrorCode.INVALID_RESOURCE);
  assert.equal(e.message, 'role "dev": spec.allow.logins: expected a list of strings (line 7)');
  assert.equal(e.details?.['line'], 7);
  assert.equal(e.details?.['field'], 'spec.allow.logins');
});

test('unknown field lists the allowed fields and points at the key', () => {
  const text = [
    'kind: role',
    'version: v7',
    'metadata:',
    '  name: dev',
    'spec:',
    '  alow:',
    '    logins: [root]',
    '',
  ].join('\n');
  const e = failure(() => parse(text));
  assert.equal(e.message, 'role "dev": spec.alow: unknown field; allowed fields: allow, deny, options (line 6)');
  assert.equal(e.details?.['field'], 'spec.alow');
});

test('several unknown fields become one line each, in line order', () => {
  const text = [
    'kind: user',
    'version: v2',
    'metadata: {name: al, owner: x}',
    'spec:',
    '  roles: [access]',
    '  password_hash: abc',
    '',
  ].join('\n');
  const e = failure(() => parse(text));
  assert.deepEqual(e.message.split('\n'), [
    'user "al": metadata.owner: unknown field; allowed fields: name (line 3)',
    'user "al": spec.password_hash: unknown field; allowed fields: roles, traits, is_bot (line 6)',
  ]);
  assert.equal((e.details?.['issues'] as unknown[]).length, 2);
});

test('unknown kind lists the known kinds', () => {
  const e = failure(() => parse('kind: rol\nversion: v7\nmetadata: {name: dev}\nspec: {}\n'));
  assert.equal(e.code, ErrorCode.UNKNOWN_KIND);
  assert.equal(
    e.message,
    'unknown kind "rol"; known kinds: app, cluster_auth_preference, db, device, lock, role, user (line 1)',
  );
});

test('missing kind and non-string kind', () => {
  assert.equal(
    failure(() => parse('version: v7\n')).message,
    'missing field "kind"; known kinds: app, cluster_auth_preference, db, device, lock, role, user (line 1)',
  );
  assert.equal(
    failure(() => parse('version: v7\nkind: [role]\n')).message,
    'kind: expected a string; known kinds: app, cluster_auth_preference, db, device, lock, role, user (line 2)',
  );
});

test('unsupported and missing version list the supported versions', () => {
  const e = failure(() => parse('kind: role\nversion: v6\nmetadata: {name: dev}\nspec: {}\n'));
  assert.equal(e.code, ErrorCode.INVALID_RESOURCE);
  assert.equal(e.message, 'role version "v6" is not supported; supported: v7 (line 2)');
  assert.equal(
    failure(() => parse('kind: user\nmetadata: {name: al}\n')).message,
    'user "al": version: required field is missing; supported: v2 (line 1)',
  );
});

test('missing required field points at the parent', () => {
  const text = ['kind: user', 'version: v2', 'metadata:', '  name: al', 'spec:', '  traits: {logins: [al]}', ''].join(
    '\n',
  );
  assert.equal(failure(() => parse(text)).message, 'user "al": spec.roles: required field is missing (line 5)');
});

test('malformed YAML gives the parser message with line and column', () => {
  const e = failure(() => parse('kind: role\nversion: v7\nmetadata: {name: dev\nspec: {}\n'));
  assert.equal(e.code, ErrorCode.INVALID_RESOURCE);
  assert.match(e.message, /^invalid YAML: .+ at line 4, column 1:/);
  assert.equal(e.details?.['line'], 4);
  assert.equal(e.details?.['column'], 1);
  const dup = failure(() => parse('kind: role\nkind: user\n'));
  assert.match(dup.message, /^invalid YAML: Map keys must be unique at line 2, column 1/);
});

test('bad duration and bad name are reported with their lines', () => {
  const text = [
    'kind: role',
    'version: v7',
    'metadata:',
    '  name: Dev_Team!',
    'spec:',
    '  options:',
    '    max_session_ttl: 8 hours',
    '',
  ].join('\n');
  const lines = failure(() => parse(text)).message.split('\n');
  assert.deepEqual(lines, [
    'role "Dev_Team!": metadata.name: "Dev_Team!" is not a valid name: use 1-63 lowercase letters, digits, "-", "." or "_", starting with a letter or digit (line 4)',
    'role "Dev_Team!": spec.options.max_session_ttl: "8 hours" is not a duration; use a number with a unit (h, m, s, ms), like "8h", "30m" or "1h30m" (line 7)',
  ]);
});

test('multi-document input yields every resource in order', () => {
  const text = [
    'kind: role',
    'version: v7',
    'metadata: {name: dev}',
    'spec: {allow: {logins: [dev]}}',
    '---',
    '---',
    'kind: user',
    'version: v2',
    'metadata: {name: al}',
    'spec: {roles: [dev]}',
    '',
  ].join('\n');
  const out = parse(text);
  assert.deepEqual(
    out.map((r) => `${r.kind}/${r.metadata.name}`),
    ['role/dev', 'user/al'],
  );
});

test('errors in later documents carry their own line and document number', () => {
  const text = [
    'kind: role',
    'version: v7',
    'metadata: {name: ok}',
    'spec: {}',
    '---',
    'kind: user',
    'version: v2',
    'metadata: {name: bob}',
    'spec:',
    '  roles: access',
    '',
  ].join('\n');
  const e = failure(() => parse(text));
  assert.equal(e.message, 'user "bob": spec.roles: expected a list of role names (line 10)');
  assert.equal(e.details?.['document'], 2);
});

test('JSON input, including a list of resources, is accepted', () => {
  const one = parse(
    '{"kind":"user","version":"v2","metadata":{"name":"al"},"spec":{"roles":["access"],"is_bot":true}}',
  );
  assert.deepEqual(one, [
    { kind: 'user', version: 'v2', metadata: { name: 'al' }, spec: { roles: ['access'], is_bot: true } },
  ]);
  const many = parse(
    '[\n{"kind":"user","version":"v2","metadata":{"name":"a"},"spec":{"roles":[]}},\n{"kind":"role","version":"v7","metadata":{"name":"b"},"spec":{}}\n]',
  );
  assert.deepEqual(
    many.map((r) => r.metadata.name),
    ['a', 'b'],
  );
  const bad = failure(() =>
    parse(
      '[\n{"kind":"user","version":"v2","metadata":{"name":"a"},"spec":{"roles":[]}},\n{"kind":"user","version":"v2","metadata":{"name":"b"},"spec":{"roles":"x"}}\n]',
    ),
  );
  assert.equal(bad.message, 'user "b": spec.roles: expected a list of role names (line 3)');
  assert.equal(bad.details?.['document'], 2);
});

test('empty input is an error unless allowed', () => {
  assert.equal(failure(() => parse('')).message, 'no resources found: the input is empty');
  assert.equal(failure(() => parse('---\n# only a comment\n---\n')).message, 'no resources found: the input is empty');
  assert.deepEqual(parseResources('', registry, { allowEmpty: true }), []);
});

test('a document that is not a mapping is refused', () => {
  assert.equal(
    failure(() => parse('just text\n')).message,
    'expected a resource: a mapping with kind, version, metadata and spec (known kinds: app, cluster_auth_preference, db, device, lock, role, user) (line 1)',
  );
});

test('parseResource wants exactly one resource', () => {
  const role = parseResource('kind: role\nversion: v7\nmetadata: {name: dev}\nspec: {}\n', registry);
  assert.equal(role.metadata.name, 'dev');
  const two =
    'kind: role\nversion: v7\nmetadata: {name: a}\nspec: {}\n---\nkind: role\nversion: v7\nmetadata: {name: b}\nspec: {}\n';
  assert.equal(failure(() => parseResource(two, registry)).message, 'expected one resource, found 2');
});

test('a "__proto__" key is refused, not turned into a prototype', () => {
  const text = [
    'kind: role',
    'version: v7',
    'metadata: {name: dev}',
    'spec:',
    '  allow:',
    '    node_labels:',
    '      __proto__: [x]',
    '',
  ].join('\n');
  assert.equal(
    failure(() => parse(text)).message,
    'role "dev": spec.allow.node_labels.__proto__: "__proto__" is not allowed as a key (line 7)',
  );
});

test('alias bombs are cut off by the parser', () => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 8; i++)
    levels.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  const e = failure(() => parse(`${levels.join('\n')}\n`));
  assert.equal(e.code, ErrorCode.INVALID_RESOURCE);
  assert.match(e.message, /^invalid YAML: Excessive alias count .* \(document starting at line 1\)$/);
});
