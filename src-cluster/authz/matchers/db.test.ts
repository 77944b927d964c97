import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { newRole, type RoleResource } from '../../resources/role.ts';
import { RoleSet } from '../../resources/role-set.ts';
import type { PrincipalTraits } from '../../resources/role-principals.ts';
import { matchRoles } from '../role-match.ts';
import { dbMatcher, type DbAction } from './db.ts';
import type { AccessResource } from './matcher.ts';

const pgProd = { kind: 'db', name: 'pg-prod', labels: { env: 'prod', engine: 'postgres' } };
const pgDev = { kind: 'db', name: 'pg-dev', labels: { env: 'dev', engine: 'postgres' } };
const traits: PrincipalTraits = { db_users: ['alice'], db_names: ['orders'] };

const devDbs = newRole('dev-dbs', {
  allow: { db_labels: { env: ['dev', 'staging-*'] }, db_users: ['{{internal.db_users}}', 'reader'], db_names: ['*'] },
});
const prodReader = newRole('prod-reader', {
  allow: { db_labels: { env: 'prod' }, db_users: ['reader'], db_names: ['{{internal.db_names}}'] },
});
const noProd = newRole('no-prod-db', { deny: { db_labels: { env: 'prod' } } });
const noAdmin = newRole('no-admin', { deny: { db_users: ['admin'] } });
const noUsers = newRole('no-db-users', { deny: { db_users: ['*'] } });
const sshOnly = newRole('ssh-only', { allow: { logins: ['root'], node_labels: { '*': '*' } } });

function check(roles: RoleResource[], db: AccessResource, action: DbAction): string {
  const d = matchRoles(new RoleSet(roles, traits), dbMatcher, db, dbMatcher.principals(action));
  return d.allowed ? 'allowed' : d.reason;
}

test('db access: labels, db_users and db_names with wildcards and traits; deny wins', () => {
  const cases: Array<[string, RoleResource[], AccessResource, DbAction, string]> = [
    ['trait user, any name', [devDbs], pgDev, { dbUser: 'alice', dbName: 'anything' }, 'allowed'],
    ['plain user, no name asked', [devDbs], pgDev, { dbUser: 'reader' }, 'allowed'],
    [
      'user outside the role',
      [devDbs],
      pgDev,
      { dbUser: 'bob' },
      'database user "bob" is not allowed on database "pg-dev" by role dev-dbs',
    ],
    ['name from traits', [prodReader], pgProd, { dbUser: 'reader', dbName: 'orders' }, 'allowed'],
    [
      'name outside the traits',
      [prodReader],
      pgProd,
      { dbUser: 'reader', dbName: 'billing' },
      'database user "reader" with database name "billing" are not allowed on database "pg-prod" by role prod-reader',
    ],
    [
      'labels outside every role',
      [devDbs],
      pgProd,
      { dbUser: 'alice' },
      `database "pg-prod" is not allowed by role dev-dbs: no role's db_labels match the database's labels`,
    ],
    [
      'deny labels win',
      [prodReader, noProd],
      pgProd,
      { dbUser: 'reader', dbName: 'orders' },
      'access to database "pg-prod" is denied by role no-prod-db',
    ],
    [
      'deny user on every db',
      [devDbs, noAdmin],
      pgDev,
      { dbUser: 'admin' },
      'database user "admin" is denied by role no-admin',
    ],
    ['deny user leaves other users', [devDbs, noAdmin], pgDev, { dbUser: 'reader' }, 'allowed'],
    [
      'deny wildcard refuses every user',
      [devDbs, noUsers],
      pgDev,
      { dbUser: 'alice' },
      'database user "alice" is denied by role no-db-users',
    ],
    [
      'SSH grants are not database grants',
      [sshOnly],
      pgDev,
      { dbUser: 'root' },
      `database "pg-dev" is not allowed by role ssh-only: no role's db_labels match the database's labels`,
    ],
    [
      'labels from one role, user from another do not combine',
      [prodReader, devDbs],
      pgProd,
      { dbUser: 'alice', dbName: 'orders' },
      'database user "alice" with database name "orders" are not allowed on database "pg-prod" by roles prod-reader, dev-dbs',
    ],
  ];
  for (const [name, roles, db, action, expected] of cases) assert.equal(check(roles, db, action), expected, name);
});

test('a denied user is refused by name even where a role allows it', () => {
  const adminToo = newRole('admin-too', { allow: { db_labels: { '*': '*' }, db_users: ['admin'], db_names: ['*'] } });
  assert.equal(
    check([adminToo, noAdmin], pgDev, { dbUser: 'admin' }),
    'database user "admin" is denied by role no-admin',
  );
});

test('requests naming "*" or a malformed user are refused before any role sees them', () => {
  for (const action of [{ dbUser: '*' }, { dbUser: '-oProxy' }, { dbUser: 'ok', dbName: '*' }]) {
    assert.throws(
      () => dbMatcher.principals(action),
      (e: unknown) =>
        e instanceof GatehouseError && e.code === ErrorCode.BAD_REQUEST && /is not a valid database/.test(e.message),
    );
  }
});

test('the db matcher offers the database as lock target and passes user and name on as limits', () => {
  assert.deepEqual(dbMatcher.lockTargets(pgDev, { dbUser: 'alice' }), [{ kind: 'db', value: 'pg-dev' }]);
  const set = new RoleSet([devDbs], traits);
  assert.deepEqual(dbMatcher.grant({ roleSet: set, granting: set.compiled }, pgDev, { dbUser: 'alice', dbName: 'x' }), {
    allowed: true,
    limits: { dbUser: 'alice', dbName: 'x' },
  });
});
