// `gate db` and `gate proxy db` end to end: a real cluster with a db service, a real PostgreSQL
// 15 whose server certificate comes from the cluster's database CA (`gatectl auth sign --format
// db`), the real `gate` binary and the real psql. Proves what a person sees: `gate db ls` lists
// what the role allows, `gate db login` stores a route certificate, `gate proxy db --tunnel`
// prints the address and the psql command that then works, a denied db user gets psql's own
// FATAL with the reason while the gateway keeps serving, and `gate db connect` runs psql with
// its exit code (and names the package when psql is missing).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ClusterProcess, freePort, stopChild } from '../../../test-support/cluster-process.ts';
import { until } from '../../../test-support/until.ts';
import { dbRoleYaml, loopbackDbYaml } from '../../../test-support/databases/cluster-resources.ts';
import { PSQL, startPostgres, type PostgresServer } from '../../../test-support/databases/postgres.ts';
import { MARIADB, startMariaDb, type MariaDbServer } from '../../../test-support/databases/mariadb.ts';
import { dbClientArgs } from '../../gateways/db/client-command.ts';

const DB = 'pg-orders';
const MY_DB = 'maria-orders';

/** The mariadb client through a gateway: TCP to the local port, no TLS (the gateway is local), batch output. */
function mariadb(
  port: number,
  user: string,
  database: string,
  sql: string,
): Promise<{ status: number | null; out: string }> {
  const args = [
    '--no-defaults',
    '--batch',
    '--skip-column-names',
    ...dbClientArgs('mariadb', { host: '127.0.0.1', port, dbUser: user, dbName: database }),
  ];
  // Asynchronous, like psql here: nothing in this process may block while a gateway child serves.
  return new Promise((resolve) => {
    const child = spawn(MARIADB, [...args, '-e', sql], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('close', (status) => resolve({ status, out }));
  });
}

/** psql through a gateway: plain to 127.0.0.1 (the gateway answers SSLRequest with 'N'), never prompting. */
function psql(port: number, user: string, database: string, sql: string): { status: number | null; out: string } {
  const conninfo = `host=127.0.0.1 port=${port} user=${user} dbname=${database} sslmode=disable connect_timeout=10`;
  const r = spawnSync(PSQL, ['-X', '-w', '-A', '-t', conninfo, '-c', sql], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** `gate proxy db ARGS --tunnel --port 0` until stopped; resolves with the port it printed. */
function startProxyDb(
  cluster: ClusterProcess,
  args: string[],
): Promise<{ child: ChildProcess; port: number; stderr: () => string }> {
  const child = spawn(process.execPath, cluster.gateArgv(['proxy', 'db', ...args, '--tunnel', '--port', '0']), {
    env: { ...process.env, GATEHOUSE_HOME: cluster.home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address printed in time; stderr:\n${err}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      check();
    });
    child.stderr!.on('data', () => check());
    // Listening once the address is on stdout and the how-to (ending "Stop with Ctrl-C.") on stderr.
    function check() {
      const m = /^127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m && err.includes('Stop with Ctrl-C.')) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stderr: () => err });
      }
    }
    child.once('exit', (code) => reject(new Error(`gate proxy db exited (${code}) before listening:\n${err}`)));
  });
}

describe('gate db and gate proxy db against a real cluster, PostgreSQL and MariaDB', () => {
  let cluster: ClusterProcess;
  let pg: PostgresServer | undefined;
  let maria: MariaDbServer | undefined;

  before(async () => {
    const dbServiceConfig = `db_service:\n  enabled: true\n  listen_addr: 127.0.0.1:${await freePort()}\n  databases: []\n`;
    cluster = new ClusterProcess({ extraConfig: dbServiceConfig });
    await cluster.start();
    const prefix = join(cluster.dir, 'pgserver');
    const sign = cluster.gatectl(['auth', 'sign', '--format', 'db', '--host', '127.0.0.1', '--out', prefix]);
    assert.equal(sign.status, 0, sign.stderr);
    const server = {
      serverCertPem: readFileSync(`${prefix}.crt`, 'utf8'),
      serverKeyPem: readFileSync(`${prefix}.key`, 'utf8'),
      clientCaPem: readFileSync(`${prefix}.cas`, 'utf8'),
      users: [{ name: 'alice' }, { name: 'bob' }],
      databases: [{ name: 'orders', owner: 'alice' }],
    };
    pg = await startPostgres(server);
    maria = await startMariaDb(server);
    cluster.apply(loopbackDbYaml(DB, 'postgres', pg.port));
    cluster.apply(loopbackDbYaml(MY_DB, 'mysql', maria.port));
    cluster.apply(dbRoleYaml('db-alice', { dbUsers: ['alice'], dbNames: ['orders'] }));
    const login = cluster.addUserAndLogin('dana', 'dana-password-1', 'db-alice');
    assert.equal(login.status, 0, login.stderr);
  });

  after(async () => {
    await cluster?.destroy();
    await pg?.stop();
    await maria?.stop();
  });

  test('gate db ls shows the database with its protocol, allowed users and labels', () => {
    const text = cluster.gate(['db', 'ls']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`${DB}\\s+postgres\\s+.*alice\\s+orders\\s+env=test`));
    const json = cluster.gate(['db', 'ls', '--format', 'json']);
    const dbs = JSON.parse(json.stdout) as { name: string; protocol: string; allowedDbUsers: string[] }[];
    assert.deepEqual(
      dbs.map((d) => [d.name, d.protocol, d.allowedDbUsers]),
      [
        [MY_DB, 'mysql', ['alice']],
        [DB, 'postgres', ['alice']],
      ],
    );
  });

  test('gate db login stores a route certificate; proxy db uses it and prints the working psql command', async () => {
    const login = cluster.gate(['db', 'login', DB, '--db-user', 'alice', '--db-name', 'orders']);
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stdout, /gate db connect pg-orders/);
    const stored = readdirSync(cluster.home, { recursive: true, encoding: 'utf8' }).find((f) =>
      f.endsWith(`db/${DB}.crt`),
    );
    assert.ok(stored && existsSync(join(cluster.home, stored)), 'the route certificate is stored with the login');

    const gw = await startProxyDb(cluster, [DB]);
    try {
      assert.match(
        gw.stderr(),
        new RegExp(`psql "host=127.0.0.1 port=${gw.port} user=alice dbname=orders sslmode=disable"`),
      );
      const r = psql(gw.port, 'alice', 'orders', 'select 40 + 2');
      assert.equal(r.status, 0, r.out);
      assert.equal(r.out.trim(), '42');
      // The gateway pins what `gate db login` chose: asking for bob still logs in as alice.
      const pinned = psql(gw.port, 'bob', 'orders', 'select current_user');
      assert.equal(pinned.out.trim(), 'alice', pinned.out);
    } finally {
      await stopChild(gw.child);
    }
    const logout = cluster.gate(['db', 'logout', DB]);
    assert.equal(logout.status, 0, logout.stderr);
    assert.equal(cluster.gate(['db', 'logout', DB]).status, 3, 'nothing left to log out of');
  });

  test("a denied db user gets psql's own FATAL with the reason; the gateway serves the next attempt", async () => {
    const gw = await startProxyDb(cluster, [DB]);
    try {
      const denied = psql(gw.port, 'bob', 'orders', 'select 1');
      assert.notEqual(denied.status, 0);
      assert.match(denied.out, /FATAL:.*access to db/, denied.out);
      // The gateway's own report of the refusal reaches its stderr asynchronously.
      await until(
        'the refusal on the gateway stderr',
        () => (/\[ACCESS_DENIED\]/.test(gw.stderr()) ? true : undefined),
        5000,
      );
      const ok = psql(gw.port, 'alice', 'orders', 'select 1');
      assert.equal(ok.out.trim(), '1', ok.out);
    } finally {
      await stopChild(gw.child);
    }
  });

  test('proxy db without --tunnel says why; unknown databases are DB_NOT_FOUND', () => {
    const noTunnel = cluster.gate(['proxy', 'db', DB]);
    assert.equal(noTunnel.status, 2);
    assert.match(noTunnel.stderr, /only runs in tunnel mode: add --tunnel/);
    const missing = cluster.gate(['db', 'connect', 'nope', '--db-user', 'alice']);
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /no database "nope"/);
  });

  test('gate db connect runs psql through a gateway with its exit code; a missing psql names the package', () => {
    const env = { PATH: `${dirname(PSQL)}:${process.env.PATH ?? ''}` };
    const ok = cluster.gate(['db', 'connect', DB, '--db-user', 'alice', '--db-name', 'orders'], 'select 6 * 7;\n', env);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /\b42\b/);
    const failing = cluster.gate(
      ['db', 'connect', DB, '--db-user', 'alice', '--db-name', 'orders'],
      '\\set ON_ERROR_STOP 1\nselect nope;\n',
      env,
    );
    assert.equal(failing.status, 3, 'psql exits 3 when a script fails with ON_ERROR_STOP');
    const noPsql = cluster.gate(['db', 'connect', DB, '--db-user', 'alice'], '', { PATH: '/nonexistent' });
    assert.equal(noPsql.status, 3);
    assert.match(noPsql.stderr, /psql is not installed.*postgresql-client/);
  });

  test('MySQL: proxy db prints the mysql command and mariadb works through it; db connect runs mariadb', async () => {
    const gw = await startProxyDb(cluster, [MY_DB, '--db-user', 'alice']);
    try {
      assert.match(gw.stderr(), new RegExp(`mysql --protocol=TCP --host=127.0.0.1 --port=${gw.port} --user=alice`));
      const r = await mariadb(gw.port, 'alice', 'orders', 'select 40 + 2, current_user()');
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, /^42\talice@/);
    } finally {
      await stopChild(gw.child);
    }
    const connect = cluster.gate(
      ['db', 'connect', MY_DB, '--db-user', 'alice', '--db-name', 'orders'],
      'select 6 * 7;\n',
    );
    assert.equal(connect.status, 0, connect.stderr);
    assert.match(connect.stdout, /\b42\b/);
  });
});
