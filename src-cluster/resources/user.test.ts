import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatehouseError } from '../../src-shared/errors.ts';
import { createDefaultRegistry } from './kinds.ts';
import { parseResources } from './parse.ts';
import { toYaml } from './print.ts';
import { newUser, userTraits } from './user.ts';

const registry = createDefaultRegistry();

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatehouseError);
    return e.message;
  }
  assert.fail('expected an error');
}

test('a user parses with roles, traits and is_bot', () => {
  const [user] = parseResources(
    'kind: user\nversion: v2\nmetadata: {name: ci}\nspec:\n  is_bot: true\n  traits: {logins: [deploy]}\n  roles: [access]\n',
    registry,
  );
  assert.deepEqual(user, {
    kind: 'user',
    version: 'v2',
    metadata: { name: 'ci' },
    spec: { roles: ['access'], traits: { logins: ['deploy'] }, is_bot: true },
  });
});

test('secrets are not part of a user: such fields are unknown', () => {
  const text =
    'kind: user\nversion: v2\nmetadata: {name: al}\nspec:\n  roles: [access]\n  otp_secret: JBSWY3DPEHPK3PXP\n';
  assert.equal(
    message(() => parseResources(text, registry)),
    'user "al": spec.otp_secret: unknown field; allowed fields: roles, traits, is_bot (line 6)',
  );
  const yaml = toYaml(newUser({ name: 'al', roles: ['access'], logins: ['al'] }));
  assert.doesNotMatch(yaml, /password|otp|secret|hash/i);
});

test('user field errors', () => {
  const base = 'kind: user\nversion: v2\nmetadata: {name: al}\nspec:\n';
  assert.equal(
    message(() => parseResources(`${base}  roles: [Admins]\n`, registry)),
    'user "al": spec.roles[0]: "Admins" is not a valid name: use 1-63 lowercase letters, digits, "-", "." or "_", starting with a letter or digit (line 5)',
  );
  assert.equal(
    message(() => parseResources(`${base}  roles: []\n  is_bot: yes\n`, registry)),
    'user "al": spec.is_bot: expected true or false (line 6)',
  );
  assert.equal(
    message(() => parseResources(`${base}  roles: []\n  traits: {logins: root}\n`, registry)),
    'user "al": spec.traits.logins: expected a list of strings (line 6)',
  );
  assert.equal(
    message(() => parseResources(`${base}  roles: []\n  traits: {logins: [ok, "-x"]}\n`, registry)),
    'user "al": spec.traits.logins[1]: "-x" is not a valid login: use 1-64 letters, digits, "_", ".", "@" or "-", not starting with "-", "." or "@" (line 6)',
  );
  assert.equal(
    message(() => parseResources('kind: user\nversion: v1\n', registry)),
    'user version "v1" is not supported; supported: v2 (line 2)',
  );
});

test('newUser builds a validated user and userTraits copies traits', () => {
  const u = newUser({ name: 'bob', roles: ['access'], logins: ['bob'], isBot: false });
  assert.deepEqual(u, {
    kind: 'user',
    version: 'v2',
    metadata: { name: 'bob' },
    spec: { roles: ['access'], traits: { logins: ['bob'] }, is_bot: false },
  });
  assert.deepEqual(newUser({ name: 'x', roles: [] }).spec, { roles: [] });
  const traits = userTraits(u);
  traits.logins!.push('root');
  assert.deepEqual(u.spec.traits, { logins: ['bob'] });
  assert.equal(
    message(() => newUser({ name: 'Bob', roles: [] })),
    'user "Bob": metadata.name: "Bob" is not a valid name: use 1-63 lowercase letters, digits, "-", "." or "_", starting with a letter or digit',
  );
});
