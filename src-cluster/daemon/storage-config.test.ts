// The daemon config's `storage` section: SQLite by default; PostgreSQL only with a verify-full
// conn_string; each mistake named with its field and line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './config.ts';

const PG = 'postgres://gatehouse@db.example:5432/gatehouse?sslmode=verify-full&sslrootcert=/etc/gh/db-ca.pem';

test('storage defaults to SQLite with explicit pool and time-out defaults for PostgreSQL', () => {
  const c = parseConfig('', 'x');
  assert.equal(c.storage.type, 'sqlite');
  assert.equal(c.storage.conn_string, undefined);
  const pg = parseConfig(`storage:\n  type: postgres\n  conn_string: "${PG}"\n  audit: { type: postgres }\n`, 'c.yaml');
  assert.equal(pg.storage.type, 'postgres');
  assert.equal(pg.storage.conn_string, PG);
  assert.equal(pg.storage.pool_size, 10);
  assert.equal(pg.storage.connect_timeout, '10s');
  assert.equal(pg.storage.statement_timeout, '30s');
  const tuned = parseConfig(
    `storage: { type: postgres, conn_string: "${PG}", pool_size: 25, statement_timeout: 5s }\n`,
    'c.yaml',
  );
  assert.equal(tuned.storage.pool_size, 25);
  assert.equal(tuned.storage.statement_timeout, '5s');
});

test('storage mistakes are refused with the field, the reason and the line', () => {
  const bad: [string, RegExp][] = [
    ['storage:\n  type: postgres\n', /c\.yaml: storage\.conn_string: required for storage type postgres/],
    ['storage:\n  type: postgres\n  conn_string: "not a url"\n', /storage\.conn_string: is not a URL.*\(line 3\)/],
    [
      'storage:\n  type: postgres\n  conn_string: "mysql://h/db?sslmode=verify-full"\n',
      /must start with postgres:\/\//,
    ],
    [
      'storage:\n  type: postgres\n  conn_string: "postgres://u@h/db?sslmode=require"\n',
      /storage\.conn_string: needs sslmode=verify-full \(got require\)/,
    ],
    ['storage:\n  type: postgres\n  conn_string: "postgres://u@h/db"\n', /needs sslmode=verify-full \(got none\)/],
    ['storage:\n  type: postgres\n  conn_string: "postgres://u@h/?sslmode=verify-full"\n', /names no database/],
    [`storage:\n  conn_string: "${PG}"\n`, /storage\.conn_string: conn_string is for storage type postgres/],
    [
      `storage:\n  type: postgres\n  conn_string: "${PG}"\n  path: /x.db\n`,
      /storage\.path: path is for storage type sqlite/,
    ],
    [
      `storage:\n  type: postgres\n  conn_string: "${PG}"\n  audit: { type: sqlite }\n`,
      /storage\.audit\.type: must be the storage type \(postgres\)/,
    ],
    [`storage:\n  type: postgres\n  conn_string: "${PG}"\n  pool_size: 0\n`, /storage\.pool_size/],
    [`storage:\n  type: postgres\n  conn_string: "${PG}"\n  connect_timeout: 0s\n`, /storage\.connect_timeout/],
    ['storage:\n  type: etcd\n', /storage\.type: .*sqlite.*postgres/],
  ];
  for (const [yaml, message] of bad) assert.throws(() => parseConfig(yaml, 'c.yaml'), message, yaml);
});
