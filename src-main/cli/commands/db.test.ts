// `gate db` / `gate proxy db` without a cluster: argument errors, the tunnel-only rule, logout of
// nothing, and which db user is pinned when none is named.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import type { DatabaseInfo } from '../../core/cluster-client.ts';
import { runGate } from '../main.ts';
import { chooseDbUser } from './db.ts';

async function gate(args: string[], home: string) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d) => (out += d));
  stderr.on('data', (d) => (err += d));
  const stdin = new PassThrough();
  stdin.end();
  const code = await runGate(args, { GATEHOUSE_HOME: home }, { stdin, stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe('gate db without a cluster', () => {
  const home = mkdtempSync(join(tmpdir(), 'gate-db-cli-'));
  test.after(() => rmSync(home, { recursive: true, force: true }));

  test('proxy db refuses non-tunnel mode with the reason before anything else, exit 2', async () => {
    const r = await gate(['proxy', 'db', 'orders'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: gate proxy db only runs in tunnel mode: add --tunnel/);
    assert.match(r.stderr, /psql and mysql cannot/);
  });

  test('usage errors name the command; a bad port is refused', async () => {
    let r = await gate(['db', 'login'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^ERROR: gate db login: missing required argument 'NAME'/);
    r = await gate(['db', 'ls', '--format', 'yaml'], home);
    assert.equal(r.code, 2);
    r = await gate(['proxy', 'db', 'orders', '--tunnel', '--port', '70000'], home);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--port must be 0-65535/);
  });

  test('commands that need a login say how to get one (exit of NOT_LOGGED_IN)', async () => {
    for (const args of [
      ['db', 'ls'],
      ['db', 'connect', 'orders'],
      ['proxy', 'db', 'orders', '--tunnel'],
      ['db', 'logout'],
    ]) {
      const r = await gate(args, home);
      assert.equal(r.code, 4, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /not logged in; run "gate login/);
    }
  });

  test('help lists the database commands', async () => {
    const r = await gate(['db', '--help'], home);
    assert.equal(r.code, 0);
    for (const c of ['ls', 'login', 'logout', 'connect']) assert.match(r.stdout, new RegExp(`\\n  ${c}\\b`));
    const p = await gate(['proxy', '--help'], home);
    assert.match(p.stdout, /\n {2}db <NAME>/);
  });
});

test('the db user: the one named, else the only one the roles allow; several or "*" must be chosen', () => {
  const db = (allowedDbUsers: string[]) => ({ name: 'orders', allowedDbUsers }) as DatabaseInfo;
  assert.equal(chooseDbUser(db(['alice', 'bob']), 'bob'), 'bob');
  assert.equal(chooseDbUser(db(['alice']), undefined), 'alice');
  assert.throws(
    () => chooseDbUser(db(['alice', 'bob']), undefined),
    /choose a database user with --db-user \(allowed on "orders": alice, bob\)/,
  );
  assert.throws(() => chooseDbUser(db(['*']), undefined), /--db-user/);
  assert.throws(
    () => chooseDbUser(db([]), undefined),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.ACCESS_DENIED,
  );
});
