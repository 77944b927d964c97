// The db service over real TLS on loopback: a "proxy" with a host certificate connects and
// forwards a header; a TLS echo server stands in for the database (client certificate required
// from the database CA). Covers the refusals the service makes itself, the upstream TLS it
// prepares (CN = db user, wrong-CA server certificate), the audit trail and locks cutting sessions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { ALPN_DB_SERVICE } from '../../src-shared/cert-fields.ts';
import { readReply } from '../../src-shared/ssh-route.ts';
import type { DbForwardedHeader } from '../../src-shared/db-route.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AuditEventInput } from '../audit/audit-events.ts';
import type { AccessDecision } from '../authz/authorize.ts';
import type { DbLimits } from '../authz/matchers/db.ts';
import type { LockNotice } from '../locks/lock-targets.ts';
import { createLogger, createMemoryLogger } from '../log/logger.ts';
import { DbService } from './db-service.ts';
import type { ServedDatabase } from './db-request.ts';
import { DB_SERVICE_LABEL } from '../resources/database.ts';
import { DbClientCerts } from './upstream-tls.ts';
import { passthroughEngine, type PassthroughEngine } from './test-support/passthrough-engine.ts';
import {
  dbServerPair,
  fakeDbCertSigner,
  hostPair,
  makeDbTestPki,
  routeCert,
  type DbTestPki,
  type KeyAndCert,
} from './test-support/db-pki.ts';

let pki: DbTestPki;
let proxy: KeyAndCert;
let node: KeyAndCert;
let upstream: tls.Server;
let upstreamPort: number;
let wrongCaUpstream: tls.Server;
let wrongCaPort: number;
let service: DbService;
let servicePort: number;
let engine: PassthroughEngine;
const audit: AuditEventInput[] = [];
const lockListeners = new Set<(l: LockNotice) => void>();
let decide: () => AccessDecision<DbLimits> = () => ({ allowed: true, limits: { dbUser: 'alice_db' } });
const databases = new Map<string, ServedDatabase>();
let releaseSlowUpstream!: () => void;
const slowUpstream = new Promise<void>((resolve) => (releaseSlowUpstream = resolve));

/** TLS echo "database": answers each chunk with "<client cert CN>:<chunk>". */
function echoDatabase(pair: KeyAndCert): Promise<{ server: tls.Server; port: number }> {
  const server = tls.createServer({
    cert: pair.certPem,
    key: pair.keyPem,
    ca: [pki.dbCa.certPem],
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('secureConnection', (s) => {
    const cn = s.getPeerCertificate().subject?.CN;
    s.on('data', (d: Buffer) => s.write(`${String(cn)}:${d.toString()}`));
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as AddressInfo).port })),
  );
}

before(async () => {
  pki = await makeDbTestPki();
  proxy = await hostPair(pki.hostCa, 'proxy', 'proxy1');
  node = await hostPair(pki.hostCa, 'node', 'node1');
  ({ server: upstream, port: upstreamPort } = await echoDatabase(await dbServerPair(pki.dbCa, { ips: ['127.0.0.1'] })));
  const otherCa = (await makeDbTestPki()).dbCa;
  ({ server: wrongCaUpstream, port: wrongCaPort } = await echoDatabase(
    await dbServerPair(otherCa, { ips: ['127.0.0.1'] }),
  ));
  databases.set('orders', {
    name: 'orders',
    labels: { env: 'prod' },
    protocol: 'postgres',
    uri: `127.0.0.1:${upstreamPort}`,
  });
  databases.set('slow', { name: 'slow', labels: {}, protocol: 'postgres', uri: `127.0.0.1:${upstreamPort}` });
  databases.set('badca', { name: 'badca', labels: {}, protocol: 'postgres', uri: `127.0.0.1:${wrongCaPort}` });
  databases.set('elsewhere', {
    name: 'elsewhere',
    labels: { [DB_SERVICE_LABEL]: 'db2' },
    protocol: 'postgres',
    uri: '127.0.0.1:1',
  });
  engine = passthroughEngine({ reportChunks: true });
  const dbService = await hostPair(pki.hostCa, 'db', 'db1');
  const certs = new DbClientCerts(() => fakeDbCertSigner(pki.dbCa));
  service = new DbService({
    serviceName: 'db1',
    listenHost: '127.0.0.1',
    listenPort: 0,
    tls: { certPem: dbService.certPem, keyPem: dbService.keyPem, chainPem: [pki.hostCa.certPem] },
    hostCaPems: () => [pki.hostCa.certPem],
    userCaPems: () => [pki.userCa.certPem],
    findDatabase: async (name) => databases.get(name),
    authorize: async () => decide(),
    engines: [engine],
    upstreamFor: async (db, dbUser, timeoutMs) => {
      if (db.name === 'slow') await slowUpstream;
      return certs.upstreamFor(db, dbUser, timeoutMs);
    },
    locks: { subscribe: (l) => (lockListeners.add(l), () => lockListeners.delete(l)) },
    audit: {
      // As the audit log does: these are its own fields and refuse the event.
      emit: async (e) => {
        const reserved = ['id', 'time', 'type', 'code', 'user', 'success', 'message'].find(
          (k) => k in (e.fields ?? {}),
        );
        if (reserved) throw new Error(`audit field "${reserved}" is reserved`);
        audit.push(e);
      },
    },
    deviceTrustMode: () => 'optional',
    limits: { handshakeTimeoutMs: 5_000, maxConnectionsPerSource: 50 },
    log: process.env.DBG ? createLogger({ level: 'debug' }) : createMemoryLogger('warn'),
  });
  servicePort = (await service.start()).port;
});

after(async () => {
  await service.close();
  upstream.close();
  wrongCaUpstream.close();
});

function connect(as: KeyAndCert = proxy): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port: servicePort,
      ca: [pki.hostCa.certPem],
      cert: as.certPem,
      key: as.keyPem,
      ALPNProtocols: [ALPN_DB_SERVICE],
    });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

async function forwarded(
  over: Partial<DbForwardedHeader> = {},
  routeOver: Parameters<typeof routeCert>[1] | undefined = undefined,
) {
  const cert = await routeCert(
    pki.userCa,
    routeOver ?? { user: 'alice', roles: ['dba'], route: { kind: 'db', name: 'orders' } },
  );
  return {
    db: 'orders',
    db_user: 'alice_db',
    protocol: 'postgres',
    user_cert_pem: cert.certPem,
    client_addr: '10.0.0.9:5000',
    ...over,
  };
}

/** Sends a line and returns the reply (undefined for ok, else the refusal). */
async function ask(line: string, as?: KeyAndCert): Promise<{ socket: tls.TLSSocket; refusal?: GatehouseError }> {
  const socket = await connect(as);
  socket.write(line + '\n');
  try {
    await readReply(socket, 5_000);
    return { socket };
  } catch (e) {
    socket.destroy();
    return { socket, refusal: e as GatehouseError };
  }
}

function nextData(s: tls.TLSSocket): Promise<string> {
  // readReply leaves the socket paused (the bytes after the reply belong to the protocol).
  const p = new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
  s.resume();
  return p;
}

test('an allowed session reaches the database as the db user and is audited start, query, end', async () => {
  audit.length = 0;
  decide = () => ({ allowed: true, limits: { dbUser: 'alice_db' } });
  const { socket, refusal } = await ask(JSON.stringify(await forwarded()));
  assert.equal(refusal, undefined);
  socket.write('select 1');
  assert.equal(await nextData(socket), 'alice_db:select 1');
  const ctx = engine.started.at(-1)!;
  assert.equal(ctx.dbUser, 'alice_db');
  assert.equal(ctx.upstream.port, upstreamPort);
  socket.end();
  await new Promise((r) => socket.once('close', r));
  await new Promise((r) => setTimeout(r, 100));
  const types = audit.map((e) => e.type);
  assert.deepEqual(types, ['db.session.start', 'db.session.query', 'db.session.end']);
  assert.equal(audit[0]!.success, true);
  assert.equal(audit[0]!.fields!['client_address'], '10.0.0.9:5000');
  assert.equal(audit[1]!.fields!['statement'], 'select 1');
  assert.equal(audit[2]!.fields!['bytes_in'], 8);
});

test('only a proxy host certificate may connect', async () => {
  const { refusal } = await ask(JSON.stringify(await forwarded()), node);
  assert.equal(refusal?.code, ErrorCode.ACCESS_DENIED);
  assert.match(refusal!.message, /only the cluster's proxies/);
});

test('a user certificate not from the user CA, an expired one, or a non-route one is refused', async () => {
  const otherCa = (await makeDbTestPki()).userCa;
  const forged = await forwarded({}, undefined);
  forged.user_cert_pem = (await routeCert(otherCa, { user: 'alice', route: { kind: 'db', name: 'orders' } })).certPem;
  assert.equal((await ask(JSON.stringify(forged))).refusal?.code, ErrorCode.CERT_INVALID);
  const expired = await forwarded(
    {},
    { user: 'alice', route: { kind: 'db', name: 'orders' }, notBeforeMs: -7200_000, notAfterMs: -3600_000 },
  );
  assert.equal((await ask(JSON.stringify(expired))).refusal?.code, ErrorCode.CERT_EXPIRED);
  const plain = await forwarded({}, { user: 'alice' });
  assert.match((await ask(JSON.stringify(plain))).refusal!.message, /names no route/);
});

test('the route certificate must name this database and the pinned db user / db name', async () => {
  const other = await forwarded({}, { user: 'alice', route: { kind: 'db', name: 'billing' } });
  assert.match((await ask(JSON.stringify(other))).refusal!.message, /for database "billing", not "orders"/);
  const pinned = await forwarded({}, { user: 'alice', route: { kind: 'db', name: 'orders', dbUser: 'ro' } });
  assert.match((await ask(JSON.stringify(pinned))).refusal!.message, /db user "ro", not "alice_db"/);
  const pinnedName = await forwarded(
    { db_name: 'x' },
    { user: 'alice', route: { kind: 'db', name: 'orders', dbName: 'app' } },
  );
  assert.match((await ask(JSON.stringify(pinnedName))).refusal!.message, /db name "app", not "x"/);
});

test('a malformed, oversize or misspelled header is refused naming the problem', async () => {
  assert.match((await ask('not json')).refusal!.message, /not JSON/);
  const misspelled = { ...(await forwarded()), dbuser: 'x' };
  assert.match((await ask(JSON.stringify(misspelled))).refusal!.message, /dbuser/);
  const noUser = { ...(await forwarded()), db_user: '' };
  assert.match((await ask(JSON.stringify(noUser))).refusal!.message, /db_user/);
  const huge = JSON.stringify({ ...(await forwarded()), client_addr: 'x'.repeat(40_000) });
  assert.match((await ask(huge)).refusal!.message, /too long/);
});

test('unknown databases, databases of another db service and a protocol mismatch are refused', async () => {
  const unknown = await forwarded({ db: 'nope' }, { user: 'alice', route: { kind: 'db', name: 'nope' } });
  assert.equal((await ask(JSON.stringify(unknown))).refusal?.code, ErrorCode.DB_NOT_FOUND);
  const elsewhere = await forwarded({ db: 'elsewhere' }, { user: 'alice', route: { kind: 'db', name: 'elsewhere' } });
  assert.equal((await ask(JSON.stringify(elsewhere))).refusal?.code, ErrorCode.DB_NOT_FOUND);
  const mysql = await forwarded({ protocol: 'mysql' });
  assert.match((await ask(JSON.stringify(mysql))).refusal!.message, /speaks postgres, not mysql/);
});

test('denials say why: roles as "access to db denied", device trust and locks as the authorizer says', async () => {
  audit.length = 0;
  decide = () => ({ allowed: false, reason: 'db user "root" is not allowed on database "orders"' });
  const roles = await ask(JSON.stringify(await forwarded({ db_user: 'root' })));
  assert.equal(roles.refusal?.message, 'access to db denied: db user "root" is not allowed on database "orders"');
  assert.equal(audit.at(-1)?.type, 'db.session.start');
  assert.equal(audit.at(-1)?.success, false);
  decide = () => ({ allowed: false, reason: 'unauthorized device' });
  assert.equal((await ask(JSON.stringify(await forwarded()))).refusal?.message, 'unauthorized device');
  decide = () => ({ allowed: false, reason: 'user alice is locked: offboarding', recorded: true });
  assert.equal((await ask(JSON.stringify(await forwarded()))).refusal?.message, 'user alice is locked: offboarding');
});

test('a database whose server certificate is not from its CA fails with the database named and the reason', async () => {
  decide = () => ({ allowed: true, limits: { dbUser: 'alice_db' } });
  const header = await forwarded({ db: 'badca' }, { user: 'alice', route: { kind: 'db', name: 'badca' } });
  const { socket, refusal } = await ask(JSON.stringify(header));
  assert.equal(refusal, undefined);
  const text = await nextData(socket);
  assert.match(text, /database badca: its server certificate is not signed by the CA the database resource trusts/);
  socket.destroy();
});

test('a lock that comes into force ends the live sessions it matches, and only those', async () => {
  decide = () => ({ allowed: true, limits: { dbUser: 'alice_db' } });
  audit.length = 0;
  const alice = (await ask(JSON.stringify(await forwarded()))).socket;
  const bobHeader = await forwarded({}, { user: 'bob', roles: ['dev'], route: { kind: 'db', name: 'orders' } });
  const bob = (await ask(JSON.stringify(bobHeader))).socket;
  alice.write('x');
  await nextData(alice);
  bob.write('y');
  await nextData(bob);
  const closed = new Promise((r) => alice.once('close', r));
  for (const l of lockListeners) {
    l({
      name: 'l1',
      message: 'user alice is locked',
      matches: (t) => t.some((x) => x.kind === 'user' && x.value === 'alice'),
    });
  }
  await closed;
  assert.equal(engine.terminated.at(-1), 'user alice is locked');
  bob.write('still');
  assert.equal(await nextData(bob), 'alice_db:still');
  await new Promise((r) => setTimeout(r, 100));
  const ends = audit.filter((e) => e.type === 'db.session.end').map((e) => [e.user, e.message]);
  assert.deepEqual(
    ends.filter(([, m]) => m !== ''),
    [['alice', 'user alice is locked']],
  );
  bob.destroy();
});

test('a lock that arrives while a session is being set up refuses it with the lock message', async () => {
  decide = () => ({ allowed: true, limits: { dbUser: 'alice_db' } });
  const header = await forwarded({ db: 'slow' }, { user: 'alice', route: { kind: 'db', name: 'slow' } });
  const asked = ask(JSON.stringify(header));
  await new Promise((r) => setTimeout(r, 200));
  for (const l of lockListeners) {
    l({
      name: 'l2',
      message: 'database slow is locked',
      matches: (t) => t.some((x) => x.kind === 'db' && x.value === 'slow'),
    });
  }
  releaseSlowUpstream();
  const { refusal } = await asked;
  assert.equal(refusal?.code, ErrorCode.ACCESS_DENIED);
  assert.equal(refusal?.message, 'database slow is locked');
});
