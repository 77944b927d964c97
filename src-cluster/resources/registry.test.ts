import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { resourceName, strictFields } from './fields.ts';
import { createDefaultRegistry, isRole, isUser } from './kinds.ts';
import { parseResources } from './parse.ts';
import { createRegistry, type Resource } from './registry.ts';
import { toText } from './print.ts';
import { roleKind } from './role.ts';

interface FenceResource extends Resource<'fence', { target: { user?: string; role?: string }; message?: string }> {
  version: 'v1' | 'v2';
}

const fenceSchema: z.ZodType<FenceResource> = strictFields({
  kind: z.literal('fence'),
  version: z.enum(['v1', 'v2']),
  metadata: strictFields({ name: resourceName }),
  spec: strictFields({
    target: strictFields({ user: z.string().optional(), role: z.string().optional() }),
    message: z.string().optional(),
  }),
});

test('a new kind plugs in with its own schema, versions and columns', () => {
  const registry = createDefaultRegistry();
  registry.registerKind<FenceResource>({
    kind: 'fence',
    versions: ['v1', 'v2'],
    schema: fenceSchema,
    aliases: ['fences'],
    columns: [
      {
        header: 'TARGET',
        value: (l) =>
          Object.entries(l.spec.target)
            .map(([k, v]) => `${k}:${v}`)
            .join(','),
      },
    ],
  });
  assert.deepEqual(registry.kinds(), [
    'app',
    'cluster_auth_preference',
    'db',
    'device',
    'fence',
    'lock',
    'role',
    'user',
  ]);
  const [fence] = parseResources(
    'kind: fence\nversion: v1\nmetadata: {name: l1}\nspec: {target: {user: bob}}\n',
    registry,
  );
  assert.equal(fence!.kind, 'fence');
  assert.equal(toText([fence!], registry), 'NAME  TARGET\nl1    user:bob\n');
  assert.throws(
    () => parseResources('kind: fence\nversion: v3\nmetadata: {name: l1}\nspec: {target: {}}\n', registry),
    {
      message: 'fence version "v3" is not supported; supported: v1, v2 (line 2)',
    },
  );
  assert.throws(
    () => parseResources('kind: fence\nversion: v2\nmetadata: {name: l1}\nspec:\n  target: {device: d1}\n', registry),
    {
      message: 'fence "l1": spec.target.device: unknown field; allowed fields: user, role (line 5)',
    },
  );
  assert.throws(() => parseResources('kind: lok\n', registry), {
    message:
      'unknown kind "lok"; known kinds: app, cluster_auth_preference, db, device, fence, lock, role, user (line 1)',
  });
});

test('registries are independent objects', () => {
  const a = createDefaultRegistry();
  const b = createDefaultRegistry();
  a.registerKind({ kind: 'fence', versions: ['v1'], schema: fenceSchema });
  assert.equal(b.get('fence'), undefined);
  assert.deepEqual(createRegistry().kinds(), []);
});

test('duplicate kinds or aliases and bad definitions are refused', () => {
  const registry = createDefaultRegistry();
  assert.throws(() => registry.registerKind(roleKind), { message: 'kind name "role" is already registered' });
  assert.throws(
    () => registry.registerKind({ kind: 'thing', versions: ['v1'], schema: fenceSchema, aliases: ['roles'] }),
    { message: 'kind name "roles" is already registered' },
  );
  assert.throws(
    () => registry.registerKind({ kind: 'Thing', versions: ['v1'], schema: fenceSchema }),
    /must be lowercase/,
  );
  assert.throws(() => registry.registerKind({ kind: 'thing', versions: [], schema: fenceSchema }), {
    message: 'kind "thing" has no versions',
  });
});

test('find and require accept aliases; YAML does not', () => {
  const registry = createDefaultRegistry();
  assert.equal(registry.find('roles')?.kind, 'role');
  assert.equal(registry.get('roles'), undefined);
  assert.equal(registry.require('users').kind, 'user');
  assert.throws(
    () => registry.require('gadgets'),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === ErrorCode.UNKNOWN_KIND &&
      e.message === 'unknown kind "gadgets"; known kinds: app, cluster_auth_preference, db, device, lock, role, user',
  );
  assert.throws(() => parseResources('kind: roles\n', registry), {
    message: 'unknown kind "roles"; known kinds: app, cluster_auth_preference, db, device, lock, role, user (line 1)',
  });
});

test('isRole / isUser narrow parsed resources', () => {
  const [role, user] = parseResources(
    'kind: role\nversion: v7\nmetadata: {name: r}\nspec: {deny: {logins: [root]}}\n---\nkind: user\nversion: v2\nmetadata: {name: u}\nspec: {roles: [r]}\n',
    createDefaultRegistry(),
  );
  assert.ok(isRole(role!) && !isUser(role!));
  assert.deepEqual(role.spec.deny?.logins, ['root']);
  assert.ok(isUser(user!) && !isRole(user!));
  assert.deepEqual(user.spec.roles, ['r']);
});
