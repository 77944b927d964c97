// The database launchers against the real servers: a client with a certificate from the client CA
// gets in over TLS as the user its CN names; without a certificate, or with one from another CA,
// the server itself refuses — so a test that sees a refusal through Gatehouse knows the database
// was set up to demand certificates, and a success means the cert was checked.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { makeCa, makeLeaf, type TestCert } from '../../test-pki.ts';
import { MARIADB, startMariaDb, type MariaDbServer } from '../mariadb.ts';
import { PSQL, startPostgres, type PostgresServer } from '../postgres.ts';

type Ca = Awaited<ReturnType<typeof makeCa>>;

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

async function pki(): Promise<{ ca: Ca; server: TestCert; alice: TestCert; foreign: TestCert }> {
  const ca = await makeCa('launcher test db CA');
  const server = await makeLeaf(ca, { cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'] });
  const alice = await makeLeaf(ca, { cn: 'alice', client: true });
  // Same CN, signed by a CA the server does not trust.
  const foreign = await makeLeaf(await makeCa('some other CA'), { cn: 'alice', client: true });
  return { ca, server, alice, foreign };
}

describe('startPostgres', () => {
  let pg: PostgresServer;
  let certs: Awaited<ReturnType<typeof pki>>;
  before(async () => {
    certs = await pki();
    pg = await startPostgres({
      serverCertPem: certs.server.certPem,
      serverKeyPem: certs.server.keyPem,
      clientCaPem: certs.ca.certPem,
      users: [{ name: 'alice' }, { name: 'admin', superuser: true }],
      databases: [{ name: 'orders', owner: 'alice' }],
    });
  });
  after(() => pg?.stop());

  it('lets a client certificate in over verified TLS as the user its CN names', () => {
    const client = pg.clientFiles('alice', certs.alice, certs.ca.certPem);
    const r = run(PSQL, [
      ...pg.psqlArgs({ user: 'alice', database: 'orders', client }),
      '-At',
      '-c',
      'select current_user, current_database(), ssl from pg_stat_ssl where pid = pg_backend_pid()',
    ]);
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out.trim(), 'alice|orders|t');
  });

  it('refuses a connection without a client certificate', () => {
    const r = run(PSQL, [...pg.psqlArgs({ user: 'alice', database: 'orders' }), '-c', 'select 1']);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /connection requires a valid client certificate/);
  });

  it('refuses a client certificate from another CA, and plain TCP', () => {
    const foreign = pg.clientFiles('foreign', certs.foreign);
    const r = run(PSQL, [...pg.psqlArgs({ user: 'alice', database: 'orders', client: foreign }), '-c', 'select 1']);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /certificate|SSL/i);
    const plain = run(PSQL, [
      ...pg.psqlArgs({ user: 'alice', database: 'orders', sslmode: 'disable' }),
      '-c',
      'select 1',
    ]);
    assert.notEqual(plain.status, 0);
    assert.match(plain.out, /no encryption|rejects connection/);
  });

  it('refuses a certificate whose CN is another user', () => {
    const client = pg.clientFiles('alice-as-admin', certs.alice);
    const r = run(PSQL, [...pg.psqlArgs({ user: 'admin', database: 'orders', client }), '-c', 'select 1']);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /certificate authentication failed for user "admin"/);
  });

  it('stop() ends the server and removes its temp dir', async () => {
    const other = await startPostgres({
      serverCertPem: certs.server.certPem,
      serverKeyPem: certs.server.keyPem,
      clientCaPem: certs.ca.certPem,
      users: [],
    });
    await other.stop();
    assert.equal(existsSync(other.dir), false);
    const client = pg.clientFiles('alice2', certs.alice);
    const r = run(PSQL, [
      ...pg.psqlArgs({ user: 'alice', database: 'orders', client, port: other.port }),
      '-c',
      'select 1',
    ]);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /Connection refused/);
  });
});

describe('startMariaDb', () => {
  let db: MariaDbServer;
  let certs: Awaited<ReturnType<typeof pki>>;
  before(async () => {
    certs = await pki();
    db = await startMariaDb({
      serverCertPem: certs.server.certPem,
      serverKeyPem: certs.server.keyPem,
      clientCaPem: certs.ca.certPem,
      users: [{ name: 'alice' }, { name: 'admin', superuser: true }],
      databases: [{ name: 'orders', owner: 'alice' }],
    });
  });
  after(() => db?.stop());

  it('lets a client certificate in over verified TLS as the user its CN names', () => {
    const client = db.clientFiles('alice', certs.alice, certs.ca.certPem);
    const r = run(MARIADB, [
      ...db.clientArgs({ user: 'alice', database: 'orders', client }),
      '--batch',
      '--skip-column-names',
      '-e',
      "select current_user(), database(); show session status like 'Ssl_version'",
    ]);
    assert.equal(r.status, 0, r.out);
    const [who, tls] = r.out.trim().split('\n');
    assert.equal(who, 'alice@%\torders');
    assert.match(tls ?? '', /^Ssl_version\tTLSv1\.[23]$/);
  });

  it('refuses a connection without a client certificate (ERROR 1045)', () => {
    const r = run(MARIADB, [...db.clientArgs({ user: 'alice', database: 'orders' }), '-e', 'select 1']);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /ERROR 1045 .*Access denied for user 'alice'/);
  });

  it('refuses a client certificate from another CA', () => {
    const foreign = db.clientFiles('foreign', certs.foreign);
    const r = run(MARIADB, [
      ...db.clientArgs({ user: 'alice', database: 'orders', client: foreign }),
      '-e',
      'select 1',
    ]);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /ERROR/);
  });

  it('requires TLS on TCP and keeps other users to their own certificate subject', () => {
    assert.equal(db.admin('select @@require_secure_transport').trim(), '1');
    const client = db.clientFiles('alice-as-admin', certs.alice);
    const r = run(MARIADB, [...db.clientArgs({ user: 'admin', client }), '-e', 'select 1']);
    assert.notEqual(r.status, 0);
    assert.match(r.out, /ERROR 1045 .*Access denied for user 'admin'/);
  });
});
