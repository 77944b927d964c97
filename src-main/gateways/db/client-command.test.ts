// The client command a db gateway prints and runs: psql / mariadb / mysql arguments with TLS off
// on the loopback leg, quoting for display, and a missing client named with its package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { dbClientArgs, displayedDbClientCommand, findLocalDbClient, formatCommand } from './client-command.ts';

const target = { host: '127.0.0.1', port: 5433, dbUser: 'alice', dbName: 'orders' };

test('psql gets one conninfo with sslmode=disable; mariadb and mysql their own no-TLS flag', () => {
  assert.deepEqual(dbClientArgs('psql', target), ['host=127.0.0.1 port=5433 user=alice dbname=orders sslmode=disable']);
  assert.deepEqual(dbClientArgs('psql', { host: '127.0.0.1', port: 1 }), ['host=127.0.0.1 port=1 sslmode=disable']);
  assert.deepEqual(dbClientArgs('mariadb', target), [
    '--protocol=TCP',
    '--host=127.0.0.1',
    '--port=5433',
    '--user=alice',
    '--skip-ssl',
    'orders',
  ]);
  assert.ok(dbClientArgs('mysql', target).includes('--ssl-mode=DISABLED'));
  assert.ok(!dbClientArgs('mysql', target).includes('--skip-ssl'));
});

test('the displayed command quotes what has spaces', () => {
  assert.equal(
    formatCommand(displayedDbClientCommand('postgres', target)),
    'psql "host=127.0.0.1 port=5433 user=alice dbname=orders sslmode=disable"',
  );
  assert.equal(
    formatCommand(displayedDbClientCommand('mysql', target)),
    'mysql --protocol=TCP --host=127.0.0.1 --port=5433 --user=alice --ssl-mode=DISABLED orders',
  );
});

test('the first installed client on PATH is used; none is NOT_FOUND naming the package', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-dbclient-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'mysql'), '#!/bin/sh\n');
  chmodSync(join(dir, 'mysql'), 0o755);
  writeFileSync(join(dir, 'psql'), 'not executable');
  assert.deepEqual(findLocalDbClient('mysql', `/nonexistent:${dir}`), { path: join(dir, 'mysql'), program: 'mysql' });
  assert.throws(
    () => findLocalDbClient('postgres', dir),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === ErrorCode.NOT_FOUND &&
      /psql is not installed \(looked in PATH\); install the postgresql-client package/.test(e.message),
  );
  assert.throws(() => findLocalDbClient('mysql', ''), /mariadb or mysql is not installed.*mariadb-client/);
});
