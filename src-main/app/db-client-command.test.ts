// What a gateway tab shows and Run starts: the installed client (its arguments depend on which:
// mariadb and mysql spell "no TLS" differently), the usual name when none is installed, and
// NOT_FOUND naming the package when Run has nothing to start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { clientProgramName, displayedClientCommand, runnableClientCommand } from './db-client-command.ts';

const target = { localAddress: '127.0.0.1', localPort: 54321, dbUser: 'alice', dbName: 'sales' };

function binDir(...programs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'gh-dbclient-'));
  for (const p of programs) {
    writeFileSync(join(dir, p), '#!/bin/sh\n');
    chmodSync(join(dir, p), 0o755);
  }
  return dir;
}

test('postgres: psql with one conninfo argument, TLS off on the loopback leg', () => {
  assert.equal(
    displayedClientCommand('psql', { ...target, protocol: 'postgres' }),
    'psql "host=127.0.0.1 port=54321 user=alice dbname=sales sslmode=disable"',
  );
});

test('mysql: the installed program decides the name and its TLS flag; none installed shows mariadb', () => {
  const onlyMysql = binDir('mysql');
  const none = binDir();
  try {
    assert.equal(clientProgramName('mysql', onlyMysql), 'mysql');
    assert.equal(clientProgramName('mysql', none), 'mariadb');
    const run = runnableClientCommand({ ...target, protocol: 'mysql' }, onlyMysql);
    assert.equal(run.file, join(onlyMysql, 'mysql'));
    assert.ok(run.args.includes('--ssl-mode=DISABLED'));
    assert.equal(
      displayedClientCommand(run.program, { ...target, protocol: 'mysql' }),
      ['mysql', ...run.args].join(' '),
    );
    assert.match(displayedClientCommand('mariadb', { ...target, protocol: 'mysql' }), /--skip-ssl sales$/);
    assert.throws(
      () => runnableClientCommand({ ...target, protocol: 'mysql' }, none),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.NOT_FOUND && /mariadb-client/.test(e.message),
    );
  } finally {
    rmSync(onlyMysql, { recursive: true, force: true });
    rmSync(none, { recursive: true, force: true });
  }
});
