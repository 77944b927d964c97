// The command Run starts and the tab shows: built from the gateway alone, quoted for a POSIX
// shell so a copied line runs as shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dbClientCommand, shellQuote } from './db-client-command.ts';

const base = { localAddress: '127.0.0.1', localPort: 54321, dbUser: 'alice' };

test('postgres: one conninfo argument, db name defaulting to the user as PostgreSQL does', () => {
  const c = dbClientCommand({ ...base, protocol: 'postgres' });
  assert.deepEqual(c.programs, ['psql']);
  assert.deepEqual(c.args, ['host=127.0.0.1 port=54321 user=alice dbname=alice sslmode=disable']);
  assert.equal(c.display, `psql 'host=127.0.0.1 port=54321 user=alice dbname=alice sslmode=disable'`);
});

test('mysql: TCP to the gateway, no TLS on the loopback leg, db name only when chosen', () => {
  const without = dbClientCommand({ ...base, protocol: 'mysql' });
  assert.deepEqual(without.programs, ['mariadb', 'mysql']);
  assert.equal(without.display, 'mariadb -h 127.0.0.1 -P 54321 -u alice --skip-ssl');
  const withDb = dbClientCommand({ ...base, protocol: 'mysql', dbName: 'sales' });
  assert.deepEqual(withDb.args.slice(-2), ['--skip-ssl', 'sales']);
});

test('shellQuote: a quoted word comes back unchanged through sh', () => {
  for (const word of ['plain', 'has space', "it's", 'a$b', '*', '']) {
    const out = execFileSync('sh', ['-c', `printf %s ${shellQuote(word)}`], { encoding: 'utf8' });
    assert.equal(out, word);
  }
});
