// Database access end to end (issue 13): the real psql and mariadb clients → the real `gate proxy
// db` gateway → the proxy → the db service in the daemon → a real PostgreSQL 15 and MariaDB 10.11
// that demand client certificates from the cluster's database CA. Roles allow and deny db users and
// db names (the denial arrives in the client's own output as its native error), the statements are
// audited for both protocols, and a database whose server certificate does not match its ca_cert
// (or server_name) is refused rather than trusted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCa, makeLeaf } from '../../../test-support/test-pki.ts';
import { PG_BINDIR, startPostgres } from '../../../test-support/databases/postgres.ts';
import {
  auditEvents,
  dbResourceYaml,
  DB_NAMES,
  DB_USERS,
  dbRoleYaml,
  mariadbVia,
  MY_DB,
  PG_DB,
  psqlVia,
  startDbWorld,
  startGateway,
  type ClientResult,
  type DbWorld,
  type Gateway,
} from './db-fixture.ts';
import { mysqlPrepareVia } from './mysql-prepare.ts';

const ok = (r: ClientResult) => {
  assert.equal(r.status, 0, r.out);
  return r.out.trim();
};
/** How each client shows the server's refusal: psql "FATAL:  <message>", mariadb "ERROR 1045 (28000): <message>". */
const PG_NATIVE = /FATAL:\s/;
const MY_NATIVE = /ERROR 1045 \(28000\)/;
/** A refusal in the client's own output: its native error line says access was denied and names what. */
function assertDenied(r: ClientResult, native: RegExp, ...names: string[]): void {
  assert.notEqual(r.status, 0, r.out);
  const line = r.out.split('\n').find((l) => native.test(l));
  assert.ok(line, `no native refusal (${native}) in: ${r.out}`);
  assert.match(line, /access to db\b.*\bdenied/);
  for (const name of names) assert.ok(line.includes(name), `"${line}" does not name ${name}`);
}

describe('database access: roles, audit and server certificates, psql and mariadb through gate proxy db', () => {
  let world: DbWorld;
  const gateways: Gateway[] = [];
  const gateway = async (who: string, db: string, pin: { dbUser?: string; dbName?: string } = {}) => {
    const g = await startGateway(world, who, db, pin);
    gateways.push(g);
    return g;
  };

  before(async () => {
    world = await startDbWorld({ clusterName: 'dbaccess', nodeName: 'db-node' });
    world.cluster.apply(dbRoleYaml('orders-only', { dbUsers: ['alice'], dbNames: ['orders'] }));
    world.cluster.apply(
      dbRoleYaml('wide', { dbUsers: ['*'], dbNames: ['*'] }, { dbUsers: ['admin'], dbNames: ['payroll'] }),
    );
    world.addUserAndLogin('dana', ['orders-only']);
    world.addUserAndLogin('erin', ['wide']);
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await world?.stop();
  });

  test('gate db ls lists both databases with their protocol', () => {
    const r = world.gateAs('dana', ['db', 'ls']);
    assert.equal(r.status, 0, r.out);
    assert.match(r.out, new RegExp(`${PG_DB}\\s+postgres`));
    assert.match(r.out, new RegExp(`${MY_DB}\\s+mysql`));
  });

  test('PostgreSQL: a pinned gateway reaches the database as the db user, over TLS with a client cert', async () => {
    const g = await gateway('dana', PG_DB, { dbUser: 'alice', dbName: 'orders' });
    // The client's own user/database are overridden by the pinned ones.
    const r = psqlVia(g.port, 'whoever', 'postgres', 'select current_user, current_database()');
    assert.equal(ok(r), 'alice|orders');
    const tls = psqlVia(
      g.port,
      'alice',
      'orders',
      'select ssl, client_dn from pg_stat_ssl where pid = pg_backend_pid()',
    );
    assert.equal(ok(tls), 't|/CN=alice');
  });

  test('PostgreSQL: a db user or db name the role does not allow is refused in psql, naming it; the gateway stays up', async () => {
    const g = await gateway('dana', PG_DB);
    assertDenied(psqlVia(g.port, 'bob', 'orders', 'select 1'), PG_NATIVE, 'bob');
    assertDenied(psqlVia(g.port, 'alice', 'payroll', 'select 1'), PG_NATIVE, 'payroll');
    // Both exist in the database and alice may open payroll there: only Gatehouse refused them.
    assert.equal(ok(psqlVia(g.port, 'alice', 'orders', 'select current_user, current_database()')), 'alice|orders');
  });

  test('PostgreSQL: deny wins over an allow-all role', async () => {
    const g = await gateway('erin', PG_DB);
    assertDenied(psqlVia(g.port, 'admin', 'orders', 'select 1'), PG_NATIVE, 'admin');
    assertDenied(psqlVia(g.port, 'bob', 'payroll', 'select 1'), PG_NATIVE, 'payroll');
    assert.equal(ok(psqlVia(g.port, 'bob', 'orders', 'select current_user')), 'bob');
  });

  test('MySQL protocol: a pinned gateway reaches MariaDB as the db user, over TLS with a client cert', async () => {
    const g = await gateway('dana', MY_DB, { dbUser: 'alice', dbName: 'orders' });
    const r = mariadbVia(
      g.port,
      'alice',
      'orders',
      "select current_user(), database(); show session status like 'Ssl_version'",
    );
    const [who, tls] = ok(r).split('\n');
    assert.equal(who, 'alice@%\torders');
    assert.match(tls ?? '', /^Ssl_version\tTLSv1\.[23]$/);
  });

  test('MySQL protocol: a db user or db name the role does not allow is refused as ERROR 1045, naming it', async () => {
    const g = await gateway('dana', MY_DB);
    assertDenied(mariadbVia(g.port, 'bob', 'orders', 'select 1'), MY_NATIVE, 'bob');
    assertDenied(mariadbVia(g.port, 'alice', 'payroll', 'select 1'), MY_NATIVE, 'payroll');
    assert.equal(ok(mariadbVia(g.port, 'alice', 'orders', 'select current_user(), database()')), 'alice@%\torders');
    const wide = await gateway('erin', MY_DB);
    assertDenied(mariadbVia(wide.port, 'admin', 'orders', 'select 1'), MY_NATIVE, 'admin');
    assert.equal(ok(mariadbVia(wide.port, 'bob', 'orders', 'select current_user()')), 'bob@%');
  });

  test('audit: sessions and statements of both protocols in gatectl audit, denials with the reason', async () => {
    const marker = `m${Date.now()}`;
    const pgGw = await gateway('dana', PG_DB, { dbUser: 'alice', dbName: 'orders' });
    ok(psqlVia(pgGw.port, 'alice', 'orders', `select 'simple-${marker}'`));
    // The extended protocol (Parse): pgbench -M extended sends its script's statement that way.
    const script = join(world.cluster.dir, 'parse.sql');
    writeFileSync(script, `select 'parse-${marker}';\n`);
    const bench = spawnSync(
      join(PG_BINDIR, 'pgbench'),
      [
        '-n',
        '-M',
        'extended',
        '-t',
        '1',
        '-f',
        script,
        '-h',
        '127.0.0.1',
        '-p',
        String(pgGw.port),
        '-U',
        'alice',
        'orders',
      ],
      { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PGSSLMODE: 'disable' } },
    );
    assert.equal(bench.status, 0, bench.stdout + bench.stderr);
    const myGw = await gateway('dana', MY_DB, { dbUser: 'alice', dbName: 'orders' });
    ok(mariadbVia(myGw.port, 'alice', 'orders', `select 'mysql-${marker}'`));
    // COM_STMT_PREPARE, which the mariadb client never sends.
    const prepared = await mysqlPrepareVia(myGw.port, 'alice', 'orders', `select ? as prep_${marker}`);
    assert.ok(prepared.ok, prepared.message);
    // Refused by the db service (an unpinned gateway passes bob on): a db.session.start failure.
    const open = await gateway('dana', MY_DB);
    assert.notEqual(mariadbVia(open.port, 'bob', 'orders', 'select 1').status, 0);

    const deadline = Date.now() + 10_000;
    const statements = () => auditEvents(world.cluster, 'db.session.query').map((e) => String(e.statement ?? ''));
    const wanted = [`simple-${marker}`, `parse-${marker}`, `mysql-${marker}`, `prep_${marker}`];
    let seen = statements();
    while (!wanted.every((w) => seen.some((s) => s.includes(w))) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      seen = statements();
    }
    for (const w of wanted)
      assert.ok(
        seen.some((s) => s.includes(w)),
        `no db.session.query with ${w} in ${JSON.stringify(seen)}`,
      );
    const query = auditEvents(world.cluster, 'db.session.query').find((e) =>
      String(e.statement).includes(`mysql-${marker}`),
    );
    assert.equal(query?.db, MY_DB);
    assert.equal(query?.db_user, 'alice');
    assert.equal(query?.user, 'dana');

    const starts = auditEvents(world.cluster, 'db.session.start');
    const started = starts.find((e) => e.success === true && e.db === PG_DB && e.db_user === 'alice');
    assert.ok(started, JSON.stringify(starts));
    assert.equal(started.db_name, 'orders');
    assert.equal(started.user, 'dana');
    // As SSH session events name it (docs/database-access.md, Audit).
    assert.match(String(started.client_address), /^127\.0\.0\.1:\d+$/);
    const denied = starts.find((e) => e.success === false && e.db === MY_DB && e.db_user === 'bob');
    assert.ok(denied, JSON.stringify(starts));
    assert.match(String(denied.message), /access to db\b.*\bdenied/);
    const ends = auditEvents(world.cluster, 'db.session.end');
    assert.ok(
      ends.some((e) => e.db === PG_DB || e.session_id === started.session_id),
      JSON.stringify(ends),
    );
  });

  test("a database whose server certificate does not match its ca_cert or server_name is refused, in the client's output", async () => {
    const other = await makeCa('a database CA of its own');
    const pgUri = `127.0.0.1:${world.pg.port}`;
    world.cluster.apply(
      dbResourceYaml({ name: 'pg-wrong-ca', protocol: 'postgres', uri: pgUri, caCertPem: other.certPem }),
    );
    world.cluster.apply(
      dbResourceYaml({ name: 'pg-wrong-name', protocol: 'postgres', uri: pgUri, serverName: 'db.elsewhere.example' }),
    );
    const myUri = `127.0.0.1:${world.maria.port}`;
    world.cluster.apply(
      dbResourceYaml({ name: 'maria-wrong-ca', protocol: 'mysql', uri: myUri, caCertPem: other.certPem }),
    );
    for (const name of ['pg-wrong-ca', 'pg-wrong-name']) {
      const g = await gateway('dana', name, { dbUser: 'alice', dbName: 'orders' });
      const r = psqlVia(g.port, 'alice', 'orders', 'select 1');
      assert.notEqual(r.status, 0, `${name}: ${r.out}`);
      assert.match(r.out, /FATAL:.*certificate/i, name);
    }
    const g = await gateway('dana', 'maria-wrong-ca', { dbUser: 'alice', dbName: 'orders' });
    const r = mariadbVia(g.port, 'alice', 'orders', 'select 1');
    assert.notEqual(r.status, 0, r.out);
    assert.match(r.out, /ERROR.*certificate/i);

    // The other way round: a server whose cert comes from its own CA is trusted when ca_cert names that CA.
    const serverCert = await makeLeaf(other, { cn: 'localhost', ips: ['127.0.0.1'] });
    const ownCa = await startPostgres({
      serverCertPem: serverCert.certPem,
      serverKeyPem: serverCert.keyPem,
      clientCaPem: world.serverCert.casPem,
      users: DB_USERS,
      databases: DB_NAMES,
    });
    try {
      const uri = `127.0.0.1:${ownCa.port}`;
      world.cluster.apply(dbResourceYaml({ name: 'pg-own-ca', protocol: 'postgres', uri, caCertPem: other.certPem }));
      const own = await gateway('dana', 'pg-own-ca', { dbUser: 'alice', dbName: 'orders' });
      assert.equal(ok(psqlVia(own.port, 'alice', 'orders', 'select current_user, current_database()')), 'alice|orders');
    } finally {
      await ownCa.stop();
    }
  });
});
