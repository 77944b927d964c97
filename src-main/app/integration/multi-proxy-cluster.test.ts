// A cluster added to the desktop app with two proxies, against real parts: auth, two proxies and
// a db service as separate `gatehouse` processes (split topology), a real PostgreSQL 15 whose
// server certificate comes from the cluster's database CA, and the real psql. Proves what a
// person sees: the add form's "a, b" is stored and listed with both addresses (every bad address
// named with BAD_REQUEST), the login carries both into the session, and a psql through the app's
// db gateway still works after the proxy it used is killed with SIGKILL (the next connection goes
// to the other proxy); a psql session already open on the surviving proxy is not disturbed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { ClusterProcess, freePort } from '../../../test-support/cluster-process.ts';
import { dbRoleYaml, loopbackDbYaml } from '../../../test-support/databases/cluster-resources.ts';
import { PSQL, startPostgres, type PostgresServer } from '../../../test-support/databases/postgres.ts';
import { composeServices, type AppServices } from '../compose.ts';

const DB = 'pg-orders';

/**
 * psql through a local gateway: plain to 127.0.0.1, never prompting. Asynchronous: the gateway
 * runs in this process, so a synchronous spawn would stop it from answering.
 */
function psql(port: number, sql: string): Promise<{ status: number | null; out: string }> {
  const conninfo = `host=127.0.0.1 port=${port} user=alice dbname=orders sslmode=disable connect_timeout=60`;
  return new Promise((resolve) => {
    const child = spawn(PSQL, ['-X', '-w', '-A', '-t', conninfo, '-c', sql], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 90_000,
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('close', (status) => resolve({ status, out }));
  });
}

describe('a desktop-app cluster with two proxies: stored, shown, and failed over by its db gateway', () => {
  let cluster: ClusterProcess;
  let pg: PostgresServer | undefined;
  let services: AppServices | undefined;
  let proxy2 = '';
  let password = '';
  const home = mkdtempSync(join(tmpdir(), 'gh-multi-proxy-'));

  before(async () => {
    const dbService = `db_service:\n  enabled: true\n  listen_addr: 127.0.0.1:${await freePort()}\n  databases: []\n`;
    cluster = new ClusterProcess({ topology: 'split', extraConfig: dbService });
    await cluster.start();
    proxy2 = `127.0.0.1:${await freePort()}`;
    await cluster.startJoined('proxy2', { roles: 'proxy', proxyAddr: proxy2 });
    await cluster.startJoined('db', { roles: 'db' });
    const prefix = join(cluster.dir, 'pgserver');
    const sign = cluster.gatectl(['auth', 'sign', '--format', 'db', '--host', '127.0.0.1', '--out', prefix]);
    assert.equal(sign.status, 0, sign.stderr);
    pg = await startPostgres({
      serverCertPem: readFileSync(`${prefix}.crt`, 'utf8'),
      serverKeyPem: readFileSync(`${prefix}.key`, 'utf8'),
      clientCaPem: readFileSync(`${prefix}.cas`, 'utf8'),
      users: [{ name: 'alice' }],
      databases: [{ name: 'orders', owner: 'alice' }],
    });
    cluster.apply(loopbackDbYaml(DB, 'postgres', pg.port));
    cluster.apply(dbRoleYaml('db-alice', { dbUsers: ['alice'], dbNames: ['orders'] }));
    password = cluster.addUser('dana', ['db-alice']).password;
    services = composeServices({ home, host: 'browser', localUser: 'root' });
  });

  after(async () => {
    await services?.close();
    await cluster?.destroy();
    await pg?.stop();
    rmSync(home, { recursive: true, force: true });
  });

  test('each bad address of a list is named, with BAD_REQUEST, and nothing is added', async () => {
    const err = await services!.clusters.probe(`${cluster.proxyAddr}, bad host:1, ${proxy2}, x:99999`).then(
      () => assert.fail('probed'),
      (e: unknown) => e as GatehouseError,
    );
    assert.ok(err instanceof GatehouseError);
    assert.equal(err.code, ErrorCode.BAD_REQUEST);
    assert.match(err.message, /"bad host:1" is not a proxy address.*; "x:99999" has an invalid port/);
    assert.deepEqual(
      (err.details?.['invalid'] as { address: string }[]).map((i) => i.address),
      ['bad host:1', 'x:99999'],
    );
    assert.deepEqual(services!.clusters.list(), []);
  });

  test('"a, b" is probed, added with the pin, listed with both proxies and logged in with both', async () => {
    const probe = await services!.clusters.probe(`${cluster.proxyAddr}, ${proxy2}`);
    assert.equal(probe.proxy, cluster.proxyAddr);
    assert.deepEqual(probe.proxies, [cluster.proxyAddr, proxy2]);
    const added = await services!.clusters.add(probe.proxies.join(','), { confirmedFingerprint: probe.caFingerprint });
    assert.equal(added.proxy, cluster.proxyAddr);
    assert.deepEqual(added.proxies, [cluster.proxyAddr, proxy2]);
    await services!.auth.login({ proxy: cluster.proxyAddr, user: 'dana', password });
    const profile = services!.core.profiles.load(cluster.proxyAddr, 'dana');
    assert.deepEqual(profile?.proxies, [cluster.proxyAddr, proxy2]);
  });

  test('psql through the db gateway keeps working after the proxy it used is killed', async () => {
    // The proxies learn the db service from auth's watch: wait until the cluster lists the database.
    for (let i = 0; (await services!.resources.listDatabases(cluster.proxyAddr)).length === 0; i++) {
      assert.ok(i < 600, 'the database is listed within a minute');
      await new Promise((r) => setTimeout(r, 100));
    }
    const gw = await services!.gateways.openDb({
      proxy: cluster.proxyAddr,
      database: DB,
      protocol: 'postgres',
      dbUser: 'alice',
      dbName: 'orders',
    });
    const before = await psql(gw.localPort, 'select 40 + 2');
    assert.equal(before.out.trim(), '42', `${before.out}\n${cluster.logs.slice(-4000)}`);
    await cluster.crashService('proxy');
    const after = await psql(gw.localPort, 'select current_user');
    assert.equal(after.status, 0, after.out);
    assert.equal(after.out.trim(), 'alice');
    // Calls to the cluster fail over too: the list of databases comes through proxy 2.
    const dbs = await services!.resources.listDatabases(cluster.proxyAddr);
    assert.deepEqual(
      dbs.map((d) => d.name),
      [DB],
    );
  });
});
