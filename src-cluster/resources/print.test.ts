import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDefaultRegistry } from './kinds.ts';
import { parseResources } from './parse.ts';
import { orderedResource, toJson, toText, toYaml } from './print.ts';
import { newRole, presetRoles } from './role.ts';
import { newUser } from './user.ts';

const registry = createDefaultRegistry();

const dev = newRole(
  'dev',
  {
    allow: {
      logins: ['{{internal.logins}}', 'ubuntu'],
      node_labels: { '*': '*', env: ['prod-*', 'dev'] },
      rules: [{ resources: ['user'], verbs: ['list'] }],
    },
    deny: { logins: ['root'] },
    options: { max_session_ttl: '1h30m' },
  },
  'developers: everything but root',
);
const alice = newUser({ name: 'alice', roles: ['dev', 'access'], logins: ['alice'], isBot: false });

test('toYaml prints kind, version, metadata, spec in that order whatever the input order', () => {
  const shuffled = { spec: { roles: ['a'] }, metadata: { name: 'x' }, version: 'v2', kind: 'user' } as const;
  assert.equal(toYaml(shuffled as never), 'kind: user\nversion: v2\nmetadata:\n  name: x\nspec:\n  roles:\n    - a\n');
  const meta = orderedResource({
    kind: 'role',
    version: 'v7',
    spec: {},
    metadata: { labels: { a: 'b' }, description: 'd', name: 'n' },
  });
  assert.deepEqual(Object.keys(meta['metadata'] as object), ['name', 'description', 'labels']);
});

test('toYaml round trip: parse(toYaml(x)) equals x, for one and many', () => {
  const all = [dev, alice, ...presetRoles()];
  for (const r of all) assert.deepEqual(parseResources(toYaml(r), registry), [r]);
  const multi = toYaml(all);
  assert.equal(multi.split(/^---$/m).length, all.length);
  assert.deepEqual(parseResources(multi, registry), all);
});

test('toYaml quotes what YAML would misread and never emits aliases', () => {
  const shared = ['x'];
  const text = toYaml(newRole('r', { allow: { logins: shared, node_labels: { '*': '*' } }, deny: { logins: shared } }));
  assert.match(text, /"\*": "\*"/);
  assert.doesNotMatch(text, /[&*]\w/);
});

test('toJson round trip and shape', () => {
  assert.deepEqual(JSON.parse(toJson(alice)), alice);
  assert.ok(Array.isArray(JSON.parse(toJson([alice]))));
  assert.equal(toJson(alice, { pretty: false }), JSON.stringify(alice));
  assert.deepEqual(parseResources(toJson([dev, alice]), registry), [dev, alice]);
});

test('toText aligns one table per kind with the kind columns', () => {
  const one = toText(presetRoles().slice(0, 2), registry).split('\n');
  assert.match(one[0]!, /^NAME {4}LOGINS {15}NODE LABELS {2}DESCRIPTION$/);
  assert.match(one[1]!, /^access {2}\{\{internal\.logins\}\} {2}\*=\* {10}log in/);
  const mixed = toText([dev, alice], registry);
  assert.equal(
    mixed,
    [
      'role:',
      'NAME  LOGINS                      NODE LABELS         DESCRIPTION',
      'dev   {{internal.logins}},ubuntu  *=*,env=prod-*|dev  developers: everything but root',
      '',
      'user:',
      'NAME   ROLES       LOGINS  BOT',
      'alice  dev,access  alice',
      '',
    ].join('\n'),
  );
  assert.equal(toText([], registry), '');
});
