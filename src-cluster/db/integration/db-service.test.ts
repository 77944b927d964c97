// The db service in a real cluster (auth, proxy and db service composed by startDaemon, in this
// process) in front of a real PostgreSQL 15 that requires TLS and client certificates from the
// cluster's database CA. The test plays the local gateway (route certificate, header, relay) so
// that a stock psql reaches the database through proxy and db service; it covers what the db
// service itself decides: the configured databases registered and routed, role denials as reply
// lines, a server certificate from the wrong CA, the audit trail, and a lock cutting a live query.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { spawn, type ChildProcess } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ALPN_POSTGRES } from '../../../src-shared/cert-fields.ts';
import { relayBytes } from '../../../src-shared/byte-relay.ts';
import { writeDbHeaderLine, type DbRouteRequest } from '../../../src-shared/db-route.ts';
import { readReply } from '../../../src-shared/ssh-route.ts';
import { startPostgres, PSQL, type PostgresServer } from '../../../test-support/databases/postgres.ts';
import { AuditLog, type AuditEvent } from '../../audit/audit-log.ts';
import { loadOrCreateAuthorities, type CertAuthorities } from '../../auth/authorities.ts';
import { identityStores } from '../../auth/identity-stores.ts';
import { createCertAuthority, issueClientCert, issueServerCert } from '../../auth/x509.ts';
import { parseConfig } from '../../daemon/config.ts';
import { startDaemon, type RunningDaemon } from '../../daemon/daemon.ts';
import { lockStore } from '../../locks/lock-service.ts';
import { createMemoryLogger } from '../../log/logger.ts';
import { newRole } from '../../resources/role.ts';
import { newUser } from '../../resources/user.ts';

const HOUR = 3600_000;
let dir: string;
let daemon: RunningDaemon;
let cas: CertAuthorities;
let pg: PostgresServer;

function keyPair() {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    publicKey: createPublicKey(privateKey),
    keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
}

async function runDaemon(dbService: string): Promise<RunningDaemon> {
  const cfg = parseConfig(
    `proxy:\n  listen_addr: 127.0.0.1:0\nnode:\n  enabled: false\ndb_service:\n  enabled: true\n  name: db1\n  listen_addr: 127.0.0.1:0\n${dbService}`,
    'test',
  );
  cfg.data_dir = dir;
  return startDaemon(cfg, createMemoryLogger('warn'));
}

async function poll<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gh-dbsvc-'));
  // First run: the cluster creates its CAs (the database CA among them); the database needs them.
  const first = await runDaemon('');
  cas = await loadOrCreateAuthorities(first.backend!, first.clusterName, createMemoryLogger('warn'));
  await first.close();
  const server = keyPair();
  const now = Date.now();
  const serverCertPem = await issueServerCert({
    ca: cas.tlsDb.material,
    publicKey: server.publicKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + HOUR),
    commonName: '127.0.0.1',
    dnsNames: ['localhost'],
    ips: ['127.0.0.1'],
  });
  pg = await startPostgres({
    serverCertPem,
    serverKeyPem: server.keyPem,
    clientCaPem: cas.tlsDb.material.certPem,
    users: [{ name: 'alice_db' }],
  });
  const otherCa = await createCertAuthority('not the database CA', 'test');
  daemon = await runDaemon(
    [
      '  databases:',
      '    - name: orders',
      '      protocol: postgres',
      `      uri: 127.0.0.1:${pg.port}`,
      '      labels: {env: prod}',
      '    - name: badca',
      '      protocol: postgres',
      `      uri: 127.0.0.1:${pg.port}`,
      '      tls:',
      '        ca_cert: |',
      ...otherCa.certPem
        .trim()
        .split('\n')
        .map((l) => `          ${l}`),
      '',
    ].join('\n'),
  );
  const { roles, users } = identityStores(daemon.backend!);
  await roles.create(
    newRole('dba', { allow: { db_labels: { '*': '*' }, db_users: ['alice_db'], db_names: ['*'] } } as never),
  );
  await users.create(newUser({ name: 'alice', roles: ['dba'] }));
});

after(async () => {
  await daemon?.close();
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function routeCert(db: string) {
  const key = keyPair();
  const now = Date.now();
  const certPem = await issueClientCert({
    ca: cas.tlsUser.material,
    publicKey: key.publicKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + HOUR),
    user: 'alice',
    roles: ['dba'],
    logins: [],
    route: { kind: 'db', name: db },
  });
  return { certPem, keyPem: key.keyPem };
}

/** Opens a database route through the proxy as the gateway does; resolves after the reply line. */
async function openRoute(header: DbRouteRequest): Promise<tls.TLSSocket> {
  const cert = await routeCert(header.db);
  const [host, port] = daemon.proxyAddress!.split(':');
  const socket = tls.connect({
    host,
    port: Number(port),
    ca: [cas.tlsHost.material.certPem],
    cert: cert.certPem,
    key: cert.keyPem,
    ALPNProtocols: [ALPN_POSTGRES],
  });
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  writeDbHeaderLine(socket, header);
  try {
    await readReply(socket, 10_000);
  } catch (e) {
    socket.destroy();
    throw e;
  }
  return socket;
}

/** A local plain port relaying one psql connection into a route (psql sends its startup as is). */
async function gateway(header: DbRouteRequest): Promise<{ port: number; close(): void }> {
  const server = net.createServer((local) => {
    openRoute(header).then(
      (remote) => {
        relayBytes(local, remote);
        relayBytes(remote, local);
        local.on('close', () => remote.destroy());
        remote.on('close', () => local.destroy());
      },
      () => local.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

function psql(port: number, sql: string): ChildProcess & { output: Promise<{ code: number | null; out: string }> } {
  const conn = `host=127.0.0.1 port=${port} user=alice_db dbname=postgres sslmode=disable gssencmode=disable`;
  const child = spawn(PSQL, ['-X', '-w', '-At', conn, '-c', sql], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const output = new Promise<{ code: number | null; out: string }>((resolve) =>
    child.once('close', (code) => resolve({ code, out })),
  );
  return Object.assign(child, { output });
}

test('psql reaches the configured database through proxy and db service; the session is audited', async () => {
  // RegisterDatabases → auth's store → the proxy's cache: routable once the proxy knows it.
  await poll('the configured database to be routable', async () =>
    openRoute({ db: 'orders', db_user: 'alice_db' }).then(
      (s) => (s.destroy(), true),
      (e: Error) => (/not found/.test(e.message) ? undefined : true),
    ),
  );
  const gw = await gateway({ db: 'orders', db_user: 'alice_db', db_name: 'postgres' });
  try {
    const r = await psql(gw.port, "select 'through the db service'").output;
    assert.equal(r.code, 0, r.out);
    assert.equal(r.out.trim(), 'through the db service');
  } finally {
    gw.close();
  }
  const log = new AuditLog(daemon.backend!);
  // The psql session's own statement and end: the routability probe above already left a
  // session end, and audit events reach auth shortly after the session, not with it.
  const isStatement = (e: AuditEvent) =>
    e.type === 'db.session.query' && /through the db service/.test(String(e['statement']));
  const types = await poll('the session statement and end in the audit log', async () => {
    const events = (await log.search({ user: 'alice', order: 'asc', limit: 1000 })).events;
    const statement = events.find(isStatement);
    const ended = events.some((e) => e.type === 'db.session.end' && e['session_id'] === statement?.['session_id']);
    return ended ? events : undefined;
  });
  const start = types.find((e) => e.type === 'db.session.start' && e.success)!;
  assert.equal(start['db'], 'orders');
  assert.equal(start['db_user'], 'alice_db');
  assert.equal(start['server_name'], 'db1');
  assert.ok(types.some((e) => e.type === 'db.session.query' && /through the db service/.test(String(e['statement']))));
});

test('a db user the roles do not allow is refused by the db service with the reason', async () => {
  await assert.rejects(openRoute({ db: 'orders', db_user: 'root' }), /access to db denied: .*root/);
  const log = new AuditLog(daemon.backend!);
  const denied = await poll('the refusal in the audit log', async () =>
    (await log.search({ type: 'db.session.start', limit: 1000 })).events.find(
      (e) => !e.success && e['db_user'] === 'root',
    ),
  );
  assert.match(denied.message, /access to db denied/);
  assert.equal(denied['error_code'], 'ACCESS_DENIED');
});

test('a database whose server certificate is not from its ca_cert fails naming the database and why', async () => {
  const gw = await gateway({ db: 'badca', db_user: 'alice_db', db_name: 'postgres' });
  try {
    const r = await psql(gw.port, 'select 1').output;
    assert.notEqual(r.code, 0);
    assert.match(r.out, /badca/);
    assert.match(r.out, /certificate/i);
  } finally {
    gw.close();
  }
});

test('a lock on the user ends a live query within seconds', async () => {
  const gw = await gateway({ db: 'orders', db_user: 'alice_db', db_name: 'postgres' });
  try {
    const child = psql(gw.port, 'select pg_sleep(30)');
    const log = new AuditLog(daemon.backend!);
    const before = (await log.search({ type: 'db.session.start', limit: 1000 })).events.length;
    await poll('the session to start', async () =>
      (await log.search({ type: 'db.session.start', limit: 1000 })).events.length > before ? true : undefined,
    );
    const started = Date.now();
    const now = new Date().toISOString();
    await lockStore(daemon.backend!).create({
      kind: 'lock',
      version: 'v2',
      metadata: { name: randomUUID() },
      spec: { target: { user: 'alice' }, message: 'offboarding', created_by: 'test', created_at: now },
    } as never);
    const r = await child.output;
    assert.ok(Date.now() - started < 10_000, 'cut within seconds, not after the 30 s query');
    assert.notEqual(r.code, 0);
    assert.match(r.out, /offboarding|locked/);
  } finally {
    gw.close();
  }
});
