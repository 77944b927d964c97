import { test } from 'node:test';
import assert from 'node:assert/strict';
import { databaseSettings, signRequest } from './db-cert-commands.ts';

test('auth sign options: --format db, comma-separated hosts, --out and a --ttl duration', () => {
  assert.deepEqual(signRequest({ format: 'db', host: 'db1.internal, 10.0.0.5,', out: '/tmp/x', ttl: '2160h' }), {
    hosts: ['db1.internal', '10.0.0.5'],
    out: '/tmp/x',
    ttlSeconds: 2160 * 3600,
  });
  assert.equal(signRequest({ format: 'db', host: 'h', out: 'p' }).ttlSeconds, 0);
  assert.throws(
    () => signRequest({ format: 'host', host: 'h', out: 'p' }),
    /--format "host" is not supported; use --format db/,
  );
  assert.throws(() => signRequest({ format: 'db', host: ' , ', out: 'p' }), /--host is required/);
  assert.throws(() => signRequest({ format: 'db', host: 'h' }), /--out PREFIX is required/);
  assert.throws(() => signRequest({ format: 'db', host: 'h', out: 'p', ttl: '90' }), /--ttl: "90" has no unit/);
});

test('the printed settings name the written files for PostgreSQL and MariaDB', () => {
  const text = databaseSettings({
    key: '/d/pg.key',
    crt: '/d/pg.crt',
    cas: '/d/pg.cas',
    hosts: ['db1'],
    expires: new Date('2027-01-01T00:00:00Z'),
  });
  for (const line of [
    "  ssl_cert_file = '/d/pg.crt'",
    "  ssl_key_file = '/d/pg.key'",
    "  ssl_ca_file = '/d/pg.cas'",
    '  hostssl all all <db service address>/32 cert',
    '  ssl-cert = /d/pg.crt',
    '  ssl-key = /d/pg.key',
    '  ssl-ca = /d/pg.cas',
    "  CREATE USER 'alice'@'%' REQUIRE SUBJECT '/CN=alice';",
  ]) {
    assert.ok(text.split('\n').includes(line), line);
  }
  assert.match(text, /server certificate for db1, expires 2027-01-01T00:00:00\.000Z/);
});
