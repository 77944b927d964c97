// The role fields of the kinds beyond SSH (databases, apps, Kubernetes) and the user traits they
// expand: the same label rules as node_labels, the same whole-entry templates as logins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatehouseError } from '../../src-shared/errors.ts';
import { createDefaultRegistry } from './kinds.ts';
import { parseResources } from './parse.ts';
import { newRole, type RoleSpec } from './role.ts';
import { RoleSet } from './role-set.ts';
import { expandPrincipals, principalListMatches } from './role-principals.ts';
import { newUser, userTraits } from './user.ts';

const registry = createDefaultRegistry();

function problems(kind: 'role' | 'user', body: string): string[] {
  const header = kind === 'role' ? 'kind: role\nversion: v7' : 'kind: user\nversion: v2';
  try {
    parseResources(`${header}\nmetadata: {name: dev}\nspec:\n${body}`, registry);
  } catch (e) {
    assert.ok(e instanceof GatehouseError);
    return e.message.split('\n');
  }
  return [];
}

test('db, app and kubernetes fields parse and keep their values', () => {
  const text = [
    'kind: role',
    'version: v7',
    'metadata: {name: dev}',
    'spec:',
    '  allow:',
    '    db_labels: {engine: [postgres, mysql-*]}',
    "    db_users: ['{{internal.db_users}}', reader]",
    "    db_names: ['*']",
    '    app_labels: {team: obs}',
    "    kubernetes_labels: {'*': '*'}",
    "    kubernetes_groups: ['system:masters', '{{internal.kubernetes_groups}}']",
    "    kubernetes_users: ['alice@corp']",
    '  deny:',
    '    db_users: [admin]',
  ].join('\n');
  const [role] = parseResources(text, registry);
  const spec = role!.spec as RoleSpec;
  assert.deepEqual(spec.allow?.db_users, ['{{internal.db_users}}', 'reader']);
  assert.deepEqual(spec.allow?.kubernetes_groups, ['system:masters', '{{internal.kubernetes_groups}}']);
  assert.deepEqual(spec.deny?.db_users, ['admin']);
});

test('each principal field takes only its own template and its own value format', () => {
  assert.deepEqual(problems('role', "  allow: {db_users: ['{{internal.logins}}']}\n"), [
    'role "dev": spec.allow.db_users[0]: unknown template "{{internal.logins}}"; supported: {{internal.db_users}} (line 5)',
  ]);
  assert.deepEqual(problems('role', "  allow: {db_users: ['-oX', 'a b']}\n"), [
    'role "dev": spec.allow.db_users[0]: "-oX" is not a valid database user: use 1-63 letters, digits, "_", ".", "@", "$" or "-", not starting with "-", "." or "@" (line 5)',
    'role "dev": spec.allow.db_users[1]: "a b" is not a valid database user: use 1-63 letters, digits, "_", ".", "@", "$" or "-", not starting with "-", "." or "@" (line 5)',
  ]);
  // "*" means "any" only where "any" is a sensible grant (databases), never for impersonation.
  assert.deepEqual(problems('role', "  allow: {db_names: ['*'], db_users: ['*']}\n"), []);
  assert.deepEqual(problems('role', "  allow: {kubernetes_groups: ['*']}\n"), [
    'role "dev": spec.allow.kubernetes_groups[0]: "*" is not a valid Kubernetes group: use 1-253 letters, digits, "_", ".", ":", "@", "/" or "-", starting with a letter or digit (line 5)',
  ]);
  assert.deepEqual(problems('role', "  allow: {logins: ['*']}\n").length, 1);
});

test('label selectors of every kind follow the node_labels rules, naming their own field', () => {
  assert.deepEqual(problems('role', "  allow:\n    db_labels: {env: '{{internal.env}}'}\n"), [
    'role "dev": spec.allow.db_labels.env: templates are not supported in db_labels (line 6)',
  ]);
  assert.deepEqual(problems('role', "  allow:\n    app_labels:\n      '*': prod\n"), [
    `role "dev": spec.allow.app_labels["*"]: the "*" key only works as '*': '*' (every app); to match any value of one label write '<label>': '*' (line 7)`,
  ]);
  assert.deepEqual(problems('role', '  deny:\n    kubernetes_labels: [env]\n'), [
    'role "dev": spec.deny.kubernetes_labels: expected a mapping of label names to values (line 6)',
  ]);
});

test('user traits for every principal field are validated and copied', () => {
  assert.deepEqual(problems('user', '  roles: []\n  traits: {db_users: [alice], kubernetes_groups: [view]}\n'), []);
  assert.deepEqual(problems('user', "  roles: []\n  traits: {db_names: ['*']}\n"), [
    'user "dev": spec.traits.db_names[0]: "*" is not a valid database name: use 1-63 letters, digits, "_", ".", "$" or "-", not starting with "-" or "." (line 6)',
  ]);
  const bob = newUser({ name: 'bob', roles: [], logins: ['bob'] });
  const traits = userTraits(bob);
  traits.db_users.push('x');
  assert.deepEqual(traits, {
    logins: ['bob'],
    db_users: ['x'],
    db_names: [],
    kubernetes_groups: [],
    kubernetes_users: [],
  });
  assert.equal(bob.spec.traits?.db_users, undefined);
});

test('templates expand per field; trait values never bring a wildcard; "*" is never a request', () => {
  const traits = { db_users: ['alice', 'bad user', '*'], kubernetes_users: ['alice'] };
  assert.deepEqual(expandPrincipals('db_users', ['{{internal.db_users}}', 'reader', 'reader'], traits), [
    'alice',
    'reader',
  ]);
  assert.deepEqual(expandPrincipals('db_names', ['{{internal.db_names}}'], traits), []);
  assert.equal(principalListMatches('db_users', ['*'], 'anyone'), true);
  assert.equal(principalListMatches('db_users', ['*'], '*'), false);
  assert.equal(principalListMatches('kubernetes_groups', ['*'], 'view'), false);
});

test('canSee answers listing questions for every kind with deny winning', () => {
  const apps = newRole('apps', { allow: { app_labels: { team: 'obs' }, db_labels: { '*': '*' } } });
  const noProdDb = newRole('no-prod-db', { deny: { db_labels: { env: 'prod' } } });
  const set = new RoleSet([apps, noProdDb], {});
  assert.equal(set.canSee('app_labels', { team: 'obs' }), true);
  assert.equal(set.canSee('app_labels', { team: 'web' }), false);
  assert.equal(set.canSee('db_labels', { env: 'dev' }), true);
  assert.equal(set.canSee('db_labels', { env: 'prod' }), false);
  assert.equal(set.canSee('node_labels', {}), false);
});
