// Real psql / pgbench → PostgresFront → PostgresEngine → real PostgreSQL 15 (TLS, pg_hba cert).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PostgresFront } from '../../src-main/gateways/db/postgres-front.ts';
import { PostgresEngine } from '../../src-cluster/db/postgres/postgres-engine.ts';
import { PG_BINDIR, PSQL, startPostgres, type PostgresServer } from '../../test-support/databases/postgres.ts';
import { makeWirePki, runClient, startWirePath, waitFor, type WirePath, type WirePki } from './db-wire-harness.ts';

let pki: WirePki;
let pg: PostgresServer;
let path: WirePath;
let dir: string;

before(async () => {
  pki = await makeWirePki();
  pg = await startPostgres({
    serverCertPem: pki.server.certPem,
    serverKeyPem: pki.server.keyPem,
    clientCaPem: pki.caPem,
    users: [{ name: 'alice' }, { name: 'bob' }],
    databases: [{ name: 'orders', owner: 'alice' }],
  });
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-pgwire-'));
  path = await startWirePath({
    front: new PostgresFront(),
    engine: new PostgresEngine(),
    upstream: {
      host: '127.0.0.1',
      port: pg.port,
      tls: { ca: pki.caPem, cert: pki.alice.certPem, key: pki.alice.keyPem, servername: 'localhost' },
      timeoutMs: 10_000,
    },
    authorize: (login) =>
      login.dbUser === 'mallory'
        ? { refuse: 'access to db orders denied: user is locked (lock L1)' }
        : // The db service would pick the certificate for the authorized user; this path only has alice's.
          { dbUser: login.dbUser === 'bob' ? 'bob' : 'alice', dbName: login.dbName ?? 'orders' },
  });
});

after(async () => {
  await path?.close();
  await pg?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const conn = (user: string, database = 'orders') =>
  `host=127.0.0.1 port=${path.port} user=${user} dbname=${database} sslmode=prefer connect_timeout=10`;

test('psql runs select 1 through the front and the engine, as the authorized user, and the statement is reported', async () => {
  const run = await runClient(PSQL, [
    '-X',
    '-w',
    '-A',
    '-t',
    conn('alice'),
    '-c',
    'select 1, current_user, current_database()',
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), '1|alice|orders');
  assert.ok(path.queries.includes('select 1, current_user, current_database()'), path.queries.join('\n'));
});

test('pgbench in extended protocol: Parse texts are reported and every transaction succeeds', async () => {
  const script = join(dir, 'bench.sql');
  writeFileSync(script, '\\set n random(1, 100)\nselect :n::int + 1 as next_value;\n');
  const before = path.queries.length;
  const run = await runClient(join(PG_BINDIR, 'pgbench'), [
    '-n',
    '-M',
    'extended',
    '-t',
    '20',
    '-f',
    script,
    conn('alice'),
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /number of transactions actually processed: 20\/20/);
  const parsed = path.queries.slice(before).filter((q) => q.startsWith('select $1::int + 1'));
  assert.ok(parsed.length >= 1, `Parse reported: ${path.queries.slice(before).join(' | ')}`);
});

test('a refusal reaches psql as FATAL with the message', async () => {
  const run = await runClient(PSQL, ['-X', '-w', conn('mallory'), '-c', 'select 1']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /FATAL: {2}access to db orders denied: user is locked \(lock L1\)/);
});

test("the database's own refusal (certificate CN alice, user bob) reaches psql natively", async () => {
  const run = await runClient(PSQL, ['-X', '-w', conn('bob'), '-c', 'select 1']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /certificate authentication failed for user "bob"/);
});

test('terminate() mid-query: psql prints the reason and exits', async () => {
  const sessionsBefore = path.sessions.length;
  const running = runClient(PSQL, ['-X', '-w', conn('alice'), '-c', 'select pg_sleep(20)']);
  await waitFor(() => path.queries.includes('select pg_sleep(20)'), 'the pg_sleep query');
  const started = Date.now();
  path.sessions[sessionsBefore]!.terminate('session locked by an administrator: lock L2');
  const run = await running;
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /FATAL: {2}session locked by an administrator: lock L2/);
  assert.ok(Date.now() - started < 5_000, 'psql ended without waiting for the query');
  await waitFor(() => path.totals.length > sessionsBefore, 'the session to end');
});

test('an unreachable database is a native FATAL naming the database', async () => {
  const dead = await startWirePath({
    front: new PostgresFront(),
    engine: new PostgresEngine(),
    upstream: { host: '127.0.0.1', port: 1, tls: {}, timeoutMs: 3_000 },
    authorize: () => ({ dbUser: 'alice', dbName: 'orders' }),
  });
  try {
    const run = await runClient(PSQL, [
      '-X',
      '-w',
      `host=127.0.0.1 port=${dead.port} user=alice dbname=orders`,
      '-c',
      'select 1',
    ]);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /FATAL: {2}database orders: .*ECONNREFUSED/);
  } finally {
    await dead.close();
  }
});
