// The proxy's database routes over real TLS on loopback: a client with a route certificate, the
// proxy, and a stand-in db service (host certificate of role "db") that records the forwarded
// header and echoes. Covers what the proxy refuses itself and what it forwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ALPN_DB_SERVICE, ALPN_MYSQL, ALPN_POSTGRES } from '../../src-shared/cert-fields.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import type { ProxyServer } from './proxy.ts';
import type { RoutableDatabase, RoutableDbService } from './db-route.ts';
import { hostPair, makeDbTestPki, routeCert, type DbTestPki, type KeyAndCert } from '../db/test-support/db-pki.ts';
import { hostTlsOf, openRoute, serviceStandIn, startTestProxy } from './test-support/route-test-bed.ts';

let pki: DbTestPki;
let proxyPair: KeyAndCert;
let proxy: ProxyServer;
let proxyPort: number;
let dbService: tls.Server;
let fakeNodeService: tls.Server;
const headers: Record<string, unknown>[] = [];
const databases = new Map<string, RoutableDatabase>();
const services = new Map<string, RoutableDbService>();

before(async () => {
  pki = await makeDbTestPki();
  proxyPair = await hostPair(pki.hostCa, 'proxy', 'proxy1');
  const db = await serviceStandIn(pki, 'db', ALPN_DB_SERVICE, headers);
  dbService = db.server;
  const node = await serviceStandIn(pki, 'node', ALPN_DB_SERVICE, headers);
  fakeNodeService = node.server;
  databases.set('orders', { name: 'orders', protocol: 'postgres' });
  databases.set('lonely', { name: 'lonely', protocol: 'postgres' });
  databases.set('down', { name: 'down', protocol: 'postgres' });
  databases.set('impostor', { name: 'impostor', protocol: 'postgres' });
  services.set('orders', { name: 'db1', address: db.address });
  services.set('down', { name: 'db9', address: '127.0.0.1:1' });
  services.set('impostor', { name: 'node1', address: node.address });
  ({ proxy, port: proxyPort } = await startTestProxy(pki, proxyPair, {
    databases: {
      findDatabase: async (name) => databases.get(name),
      dbServiceFor: async (name) => services.get(name),
      hostTls: () => hostTlsOf(pki, proxyPair),
    },
  }));
});

after(async () => {
  await proxy.close();
  dbService.close();
  fakeNodeService.close();
});

const open = (client: KeyAndCert, header: object, alpn = ALPN_POSTGRES) =>
  openRoute(proxyPort, pki, client, header, alpn);

const route = (name: string, pins: { dbUser?: string; dbName?: string } = {}) =>
  routeCert(pki.userCa, { user: 'alice', roles: ['dba'], route: { kind: 'db', name, ...pins } });

test('a route certificate for the database is forwarded to its db service and bytes relay both ways', async () => {
  const cert = await route('orders', { dbUser: 'alice_db' });
  const { socket, refusal } = await open(cert, { db: 'orders', db_user: 'alice_db', db_name: 'app' });
  assert.equal(refusal, undefined);
  const echoed = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
  socket.resume();
  socket.write('hello');
  assert.equal(await echoed, 'echo:hello');
  const h = headers.at(-1)!;
  assert.deepEqual(
    { db: h['db'], db_user: h['db_user'], db_name: h['db_name'], protocol: h['protocol'] },
    { db: 'orders', db_user: 'alice_db', db_name: 'app', protocol: 'postgres' },
  );
  assert.equal(
    new X509Certificate(String(h['user_cert_pem'])).fingerprint256,
    new X509Certificate(cert.certPem).fingerprint256,
  );
  assert.match(String(h['client_addr']), /^127\.0\.0\.1:\d+$/);
  socket.destroy();
});

test('certificates that are not route certificates for this request are refused at the proxy', async () => {
  const plain = await routeCert(pki.userCa, { user: 'alice' });
  const header = { db: 'orders', db_user: 'alice_db' };
  assert.match((await open(plain, header)).refusal!.message, /names no route/);
  assert.match((await open(await route('billing'), header)).refusal!.message, /for database "billing"/);
  const pinned = await route('orders', { dbUser: 'ro' });
  assert.match((await open(pinned, header)).refusal!.message, /db user "ro", not "alice_db"/);
  const pinnedName = await route('orders', { dbName: 'app' });
  assert.match((await open(pinnedName, header)).refusal!.message, /db name "app", not ""/);
  const app = await routeCert(pki.userCa, { user: 'alice', route: { kind: 'app', name: 'orders' } });
  assert.match((await open(app, header)).refusal!.message, /app route, not a database/);
  const hostAsUser = await open(proxyPair, header);
  assert.equal(hostAsUser.refusal?.code, ErrorCode.ACCESS_DENIED);
  assert.match(hostAsUser.refusal!.message, /only user certificates/);
});

test('expired and foreign certificates never reach a route', async () => {
  const expired = await routeCert(pki.userCa, {
    user: 'alice',
    route: { kind: 'db', name: 'orders' },
    notBeforeMs: -7200_000,
    notAfterMs: -3600_000,
  });
  const refused = await open(expired, { db: 'orders', db_user: 'x' });
  assert.equal(refused.refusal?.code, ErrorCode.NOT_LOGGED_IN);
  assert.match(refused.refusal!.message, /CERT_HAS_EXPIRED/);
  const foreign = await routeCert((await makeDbTestPki()).userCa, {
    user: 'alice',
    route: { kind: 'db', name: 'orders' },
  });
  assert.equal((await open(foreign, { db: 'orders', db_user: 'x' })).refusal?.code, ErrorCode.NOT_LOGGED_IN);
});

test('unknown databases, missing or unreachable db services and protocol mismatches are refused with codes', async () => {
  const refusal = async (name: string, alpn = ALPN_POSTGRES) =>
    (await open(await route(name), { db: name, db_user: 'u' }, alpn)).refusal!;
  assert.equal((await refusal('nope')).code, ErrorCode.DB_NOT_FOUND);
  const lonely = await refusal('lonely');
  assert.equal(lonely.code, ErrorCode.DB_UNREACHABLE);
  assert.match(lonely.message, /no db service serving database "lonely" is online/);
  const down = await refusal('down');
  assert.equal(down.code, ErrorCode.DB_UNREACHABLE);
  assert.match(down.message, /db service "db9" for database "down" at 127\.0\.0\.1:1 is unreachable: ECONNREFUSED/);
  assert.match((await refusal('impostor')).message, /not a db service's/);
  assert.match((await refusal('orders', ALPN_MYSQL)).message, /speaks postgres, not mysql/);
});

test('a malformed header is refused naming the field', async () => {
  const cert = await route('orders');
  assert.match((await open(cert, { db: 'orders' })).refusal!.message, /db_user/);
  assert.match((await open(cert, { db: 'orders', db_user: 'u', extra: 1 })).refusal!.message, /extra/);
});
