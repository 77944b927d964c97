// Real mariadb client → MysqlFront → MysqlEngine → real MariaDB 10.11 (TLS, REQUIRE SUBJECT '/CN=alice').
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { MysqlFront } from '../../src-main/gateways/db/mysql-front.ts';
import { MysqlEngine } from '../../src-cluster/db/mysql/mysql-engine.ts';
import { MARIADB, startMariaDb, type MariaDbServer } from '../../test-support/databases/mariadb.ts';
import { makeWirePki, runClient, startWirePath, waitFor, type WirePath } from './db-wire-harness.ts';

let db: MariaDbServer;
let path: WirePath;

before(async () => {
  const pki = await makeWirePki();
  db = await startMariaDb({
    serverCertPem: pki.server.certPem,
    serverKeyPem: pki.server.keyPem,
    clientCaPem: pki.caPem,
    users: [{ name: 'alice' }, { name: 'bob' }],
    databases: [{ name: 'orders', owner: 'alice' }],
  });
  path = await startWirePath({
    front: new MysqlFront(),
    engine: new MysqlEngine(),
    upstream: {
      host: '127.0.0.1',
      port: db.port,
      tls: { ca: pki.caPem, cert: pki.alice.certPem, key: pki.alice.keyPem, servername: 'localhost' },
      timeoutMs: 10_000,
    },
    authorize: (login) =>
      login.dbUser === 'mallory'
        ? { refuse: 'access to db orders denied: user is locked (lock L1)' }
        : { dbUser: login.dbUser === 'bob' ? 'bob' : 'alice', ...(login.dbName ? { dbName: login.dbName } : {}) },
  });
});

after(async () => {
  await path?.close();
  await db?.stop();
});

const client = (user: string, extra: string[] = []) => [
  '--no-defaults',
  '--protocol=TCP',
  '--host=127.0.0.1',
  `--port=${path.port}`,
  `--user=${user}`,
  '--skip-ssl',
  '--connect-timeout=10',
  '--batch',
  '--skip-column-names',
  ...extra,
];

test('mariadb runs select 1 as the authorized user in the asked database, and the statement is reported', async () => {
  const run = await runClient(MARIADB, [...client('alice', ['orders']), '-e', 'select 1, current_user(), database()']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), '1\talice@%\torders');
  assert.ok(path.queries.includes('select 1, current_user(), database()'), path.queries.join('\n'));
});

test('several statements, a result set of many packets and no database selected', async () => {
  const sql = 'select seq from orders.seq_1_to_5000 order by seq desc limit 3; select database() is null';
  const run = await runClient(MARIADB, [...client('alice'), '-e', sql]);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout.trim(), '5000\n4999\n4998\n1');
  const big = await runClient(MARIADB, [
    ...client('alice'),
    '-e',
    'select repeat("x", 100000) as v, seq from orders.seq_1_to_300',
  ]);
  assert.equal(big.code, 0, big.stderr);
  assert.equal(big.stdout.trim().split('\n').length, 300);
});

test('a refusal reaches the client as ERROR 1045 with the message', async () => {
  const run = await runClient(MARIADB, [...client('mallory'), '-e', 'select 1']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /ERROR 1045 \(28000\).*access to db orders denied: user is locked \(lock L1\)/);
});

test("the database's own refusal (certificate CN alice, user bob) reaches the client natively", async () => {
  const run = await runClient(MARIADB, [...client('bob'), '-e', 'select 1']);
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /ERROR 1045 \(28000\).*Access denied for user 'bob'/);
});

test('terminate() mid-query: the client prints the reason', async () => {
  const sessionsBefore = path.sessions.length;
  const running = runClient(MARIADB, [...client('alice'), '-e', 'select sleep(20)']);
  await waitFor(() => path.queries.includes('select sleep(20)'), 'the sleep query');
  const started = Date.now();
  path.sessions[sessionsBefore]!.terminate('session locked by an administrator: lock L2');
  const run = await running;
  assert.notEqual(run.code, 0);
  assert.match(run.stderr, /ERROR 1927 \(08S01\).*session locked by an administrator: lock L2/);
  assert.ok(Date.now() - started < 5_000, 'the client ended without waiting for the query');
});

test('terminate() between commands: the next command gets the reason', async () => {
  const sessionsBefore = path.sessions.length;
  // Interactive-style batch from stdin: the second statement is sent only after the terminate.
  const runP = runClientSlow(sessionsBefore);
  const run = await runP;
  assert.match(run.stderr, /ERROR 1927 \(08S01\).*lock L3/);
});

async function runClientSlow(index: number) {
  const { spawn } = await import('node:child_process');
  const child = spawn(MARIADB, [...client('alice'), '--unbuffered'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.write('select 41;\n');
  await waitFor(() => stdout.includes('41'), 'the first result');
  await waitFor(() => path.sessions.length > index, 'the session');
  path.sessions[index]!.terminate('session locked: lock L3');
  await new Promise((r) => setTimeout(r, 200));
  child.stdin.end('select 42;\n');
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, stdout, stderr };
}

test('an unreachable database is a native error naming the database', async () => {
  const dead = await startWirePath({
    front: new MysqlFront(),
    engine: new MysqlEngine(),
    upstream: { host: '127.0.0.1', port: 1, tls: {}, timeoutMs: 3_000 },
    authorize: () => ({ dbUser: 'alice' }),
  });
  try {
    const run = await runClient(MARIADB, [...client('alice'), `--port=${dead.port}`, '-e', 'select 1']);
    assert.notEqual(run.code, 0);
    assert.match(run.stderr, /database orders: .*ECONNREFUSED/);
  } finally {
    await dead.close();
  }
});
