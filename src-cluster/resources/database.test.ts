import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDefaultRegistry, isDatabase } from './kinds.ts';
import { parseResources } from './parse.ts';
import { toText } from './print.ts';
import { databaseUriHost, databaseUriPort, databaseUriProblem, newDatabase } from './database.ts';
import { createCertAuthority } from '../auth/x509.ts';

const registry = createDefaultRegistry();

const doc = (spec: string, metadata = '{name: orders, labels: {env: prod}}') =>
  `kind: db\nversion: v3\nmetadata: ${metadata}\nspec:\n${spec}`;

test('a database resource parses with protocol, uri, tls and labels, and prints as a table', async () => {
  const ca = (await createCertAuthority('db test CA', 'test')).certPem;
  const indented = ca
    .trim()
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n');
  const [db] = parseResources(
    doc(`  protocol: postgres\n  uri: db1.internal:5432\n  tls:\n    ca_cert: |\n${indented}\n    server_name: db1\n`),
    registry,
  );
  assert.ok(db && isDatabase(db));
  assert.equal(db.spec.protocol, 'postgres');
  assert.equal(db.spec.tls?.server_name, 'db1');
  assert.match(db.spec.tls?.ca_cert ?? '', /BEGIN CERTIFICATE/);
  const mysql = newDatabase('shop', { protocol: 'mysql', uri: '[::1]:3306' }, { labels: { env: 'dev', team: 'a' } });
  assert.equal(
    toText([db, mysql], registry),
    'NAME    PROTOCOL  URI                LABELS\norders  postgres  db1.internal:5432  env=prod\nshop    mysql     [::1]:3306         env=dev,team=a\n',
  );
  assert.equal(registry.find('databases')?.kind, 'db');
});

test('bad database fields are refused naming the field and the line', () => {
  const cases: Array<[string, RegExp]> = [
    ['  protocol: oracle\n  uri: h:1\n', /spec\.protocol: expected one of: postgres, mysql \(line 5\)/],
    ['  protocol: mysql\n  uri: db1\n', /spec\.uri: "db1" has no port/],
    ['  protocol: mysql\n  uri: db1:0\n', /spec\.uri: port "0" is not a number from 1 to 65535/],
    ['  protocol: mysql\n  uri: db1:65536\n', /spec\.uri: port "65536"/],
    ['  protocol: mysql\n  uri: "a b:5"\n', /spec\.uri: "a b" is not a host name or address/],
    ['  protocol: mysql\n', /spec\.uri: required field is missing/],
    [
      '  protocol: mysql\n  uri: h:1\n  url: h:2\n',
      /spec\.url: unknown field; allowed fields: protocol, uri, tls \(line 7\)/,
    ],
    [
      '  protocol: mysql\n  uri: h:1\n  tls: {ca_cert: nope}\n',
      /spec\.tls\.ca_cert: expected one or more PEM certificates/,
    ],
    [
      '  protocol: mysql\n  uri: h:1\n  tls: {ca_cert: "-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----"}\n',
      /spec\.tls\.ca_cert: certificate 1 of 1 does not parse/,
    ],
    ['  protocol: mysql\n  uri: h:1\n  tls: {server_name: "x y"}\n', /spec\.tls\.server_name: expected a host name/],
    [
      '  protocol: mysql\n  uri: h:1\n  tls: {verify: false}\n',
      /spec\.tls\.verify: unknown field; allowed fields: ca_cert, server_name/,
    ],
  ];
  for (const [spec, message] of cases) assert.throws(() => parseResources(doc(spec), registry), message, spec);
  assert.throws(
    () => parseResources(doc('  protocol: mysql\n  uri: h:1\n', '{name: Orders}'), registry),
    /metadata\.name: "Orders" is not a valid name/,
  );
  assert.throws(
    () => parseResources(doc('  protocol: mysql\n  uri: h:1\n').replace('v3', 'v2'), registry),
    /db version "v2" is not supported; supported: v3/,
  );
});

test('uri helpers split host and port, IPv6 without brackets', () => {
  assert.equal(databaseUriProblem('10.0.0.1:5432'), undefined);
  assert.equal(databaseUriHost('[fd00::1]:5432'), 'fd00::1');
  assert.equal(databaseUriPort('db:3306'), 3306);
  assert.match(databaseUriProblem(':5432') ?? '', /has no port/);
});
