// The config's db_service section: off by default, on with --roles=...,db, and each configured
// database checked as a kind "db" resource would be, the error naming the field and its line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCertAuthority } from '../auth/x509.ts';
import { loadConfig, parseConfig } from './config.ts';

const db = (fields: string) => `db_service:\n  enabled: true\n  databases:\n    - name: orders\n${fields}`;

test('the db service is off by default and on with db_service.enabled or --roles=...,db', () => {
  const plain = parseConfig('', 'c.yaml');
  assert.equal(plain.db_service.enabled, false);
  assert.equal(plain.db_service.listen_addr, '127.0.0.1:3081');
  assert.deepEqual(plain.db_service.databases, []);
  const roles = loadConfig(undefined, { roles: 'db', authServer: 'auth.example:3025', dataDir: '/tmp/x' });
  assert.deepEqual(
    [roles.auth.enabled, roles.proxy.enabled, roles.node.enabled, roles.db_service.enabled],
    [false, false, false, true],
  );
});

test('a configured database is parsed with its protocol, uri, labels and tls', () => {
  const cfg = parseConfig(
    db(
      '      protocol: postgres\n      uri: db1.internal:5432\n      labels: {env: prod}\n      tls: {server_name: db1.internal}\n',
    ),
    'c.yaml',
  );
  assert.deepEqual(cfg.db_service.databases, [
    {
      name: 'orders',
      protocol: 'postgres',
      uri: 'db1.internal:5432',
      labels: { env: 'prod' },
      tls: { server_name: 'db1.internal' },
    },
  ]);
});

test('bad databases are refused naming the field and its line', () => {
  assert.throws(
    () => parseConfig(db('      protocol: oracle\n      uri: db1:1521\n'), 'c.yaml'),
    /c\.yaml: db_service\.databases\.0\.protocol: .*"postgres".*"mysql".*\(line 5\)/,
  );
  assert.throws(
    () => parseConfig(db('      protocol: postgres\n      uri: db1.internal\n'), 'c.yaml'),
    /db_service\.databases\.0\.uri: "db1.internal" has no port: expected host:port/,
  );
  assert.throws(
    () => parseConfig(db('      protocol: postgres\n      uri: db1:99999\n'), 'c.yaml'),
    /db_service\.databases\.0\.uri: port "99999"/,
  );
  assert.throws(
    () => parseConfig(db('      protocol: postgres\n      uri: db1:5432\n      tls: {ca_cert: nope}\n'), 'c.yaml'),
    /db_service\.databases\.0\.tls\.ca_cert: expected one or more PEM certificates/,
  );
  assert.throws(
    () => parseConfig(db('      protocol: postgres\n      uri: db1:5432\n      tls: {servername: x}\n'), 'c.yaml'),
    /db_service\.databases\.0\.tls\.servername: unknown field/,
  );
  assert.throws(
    () =>
      parseConfig(
        db('      protocol: postgres\n      uri: a:1\n    - name: orders\n      protocol: mysql\n      uri: b:2\n'),
        'c.yaml',
      ),
    /db_service\.databases\.1\.name: "orders" is listed twice/,
  );
});

test('tls.ca_cert_file is read at load; a missing or non-PEM file names the field', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-dbcfg-'));
  try {
    const ca = await createCertAuthority('db CA', 'test');
    const caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, ca.certPem);
    const cfg = parseConfig(
      db(`      protocol: mysql\n      uri: 127.0.0.1:3306\n      tls: {ca_cert_file: ${caFile}}\n`),
      'c.yaml',
    );
    assert.deepEqual(cfg.db_service.databases[0]!.tls, { ca_cert: ca.certPem });
    assert.throws(
      () =>
        parseConfig(
          db(`      protocol: mysql\n      uri: a:1\n      tls: {ca_cert_file: ${join(dir, 'nope')}}\n`),
          'c.yaml',
        ),
      /c\.yaml: db_service\.databases\.0\.tls\.ca_cert_file: cannot read .*ENOENT/,
    );
    writeFileSync(join(dir, 'junk'), 'hello');
    assert.throws(
      () =>
        parseConfig(
          db(`      protocol: mysql\n      uri: a:1\n      tls: {ca_cert_file: ${join(dir, 'junk')}}\n`),
          'c.yaml',
        ),
      /tls\.ca_cert_file: .*expected one or more PEM certificates/,
    );
    assert.throws(
      () =>
        parseConfig(db(`      protocol: mysql\n      uri: a:1\n      tls: {ca_cert_file: x, ca_cert: y}\n`), 'c.yaml'),
      /db_service\.databases\.0\.tls/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
