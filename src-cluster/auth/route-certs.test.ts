import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate, type KeyObject } from 'node:crypto';
import { SqliteBackend } from '../storage/sqlite.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { AccessChecker } from '../authz/access.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { LockTarget } from '../resources/lock.ts';
import { identityStores } from './identity-stores.ts';
import { loadOrCreateAuthorities, type CertAuthorities } from './authorities.ts';
import { identityFromClientCert, issueClientCert } from './x509.ts';
import {
  issueRouteCertificate,
  MAX_ROUTE_CERT_TTL_MS,
  routeCertExpiry,
  type RouteCertDeps,
  type RouteCertRequest,
} from './route-certs.ts';

const DEVICE = { deviceId: 'dev-1', assetTag: 'SN-1', credentialId: 'cred-1' };
const backends: SqliteBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function setup(lockedTargets: LockTarget[] = []) {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  backends.push(backend);
  const log = createMemoryLogger();
  const cas = await loadOrCreateAuthorities(backend, 'test', log);
  const { users, roles } = identityStores(backend);
  const audit = new AuditLog(backend);
  // A lock view that holds the given targets: what the lock watcher answers for locks on them.
  const locks = {
    check: (targets: readonly LockTarget[]) => {
      const hit = lockedTargets.find((l) => targets.some((t) => t.kind === l.kind && t.value === l.value));
      return hit
        ? { locked: true as const, message: `lock targeting ${hit.kind} "${hit.value}" is in force` }
        : { locked: false as const };
    },
  };
  const access = new AccessChecker(users, roles, log, { locks, audit });
  const deps: RouteCertDeps = {
    cas,
    access,
    audit,
    databaseExists: async (name) => name === 'orders',
    appExists: async (name) => name === 'grafana',
  };
  return { cas, deps, audit };
}

async function loginCert(cas: CertAuthorities, key: KeyObject, notAfter: Date, device = false) {
  const pem = await issueClientCert({
    ca: cas.tlsUser.material,
    publicKey: key,
    notBefore: new Date(Date.now() - 60_000),
    notAfter,
    user: 'alice',
    roles: ['access', 'dba'],
    logins: ['alice'],
    ...(device ? { device: DEVICE } : {}),
  });
  const der = new X509Certificate(pem).raw;
  return { identity: identityFromClientCert(der), certDer: der, address: '10.0.0.9' };
}

function request(key: KeyObject, extra: Partial<RouteCertRequest> = {}): RouteCertRequest {
  return {
    tlsPublicKeyPem: key.export({ format: 'pem', type: 'spki' }) as string,
    kind: 'db',
    name: 'orders',
    dbUser: 'app',
    dbName: '',
    ttlSeconds: 0,
    ...extra,
  };
}

const p256 = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });

test('a route certificate copies the calling certificate and adds the route, 1 h by default, audited', async () => {
  const { cas, deps, audit } = await setup();
  const { publicKey } = p256();
  const caller = await loginCert(cas, publicKey, new Date(Date.now() + 8 * 3600_000), true);
  const issued = await issueRouteCertificate(deps, caller, request(publicKey));
  const cert = new X509Certificate(issued.certPem);
  assert.ok(cert.verify(new X509Certificate(cas.tlsUser.material.certPem).publicKey));
  assert.ok(cert.publicKey.equals(publicKey));
  const id = identityFromClientCert(cert.raw);
  assert.equal(id.user, 'alice');
  assert.deepEqual(id.roles, ['access', 'dba']);
  assert.deepEqual(id.logins, ['alice']);
  assert.deepEqual(id.device, DEVICE);
  assert.deepEqual(id.route, { kind: 'db', name: 'orders', dbUser: 'app' });
  const lifetime = issued.expires.getTime() - Date.now();
  assert.ok(lifetime > 3590_000 && lifetime <= 3600_000, String(lifetime));
  const [event] = (await audit.search({ type: 'cert.create' })).events;
  assert.equal(event?.user, 'alice');
  assert.equal(event?.['route_kind'], 'db');
  assert.equal(event?.['route_name'], 'orders');
  assert.equal(event?.['db_user'], 'app');
  assert.equal(event?.['client_address'], '10.0.0.9');
  assert.deepEqual(event?.['trusted_device'], { device_id: 'dev-1', asset_tag: 'SN-1', credential_id: 'cred-1' });
});

test('the lifetime is capped at 12 h and at the calling certificate', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  const far = new Date(now + 48 * 3600_000);
  assert.equal(routeCertExpiry(0, far, now).getTime(), now + 3600_000);
  assert.equal(routeCertExpiry(100 * 3600, far, now).getTime(), now + MAX_ROUTE_CERT_TTL_MS);
  assert.equal(routeCertExpiry(600, far, now).getTime(), now + 600_000);
  assert.equal(routeCertExpiry(0, new Date(now + 1800_000), now).getTime(), now + 1800_000);
  assert.throws(() => routeCertExpiry(-1, far, now), /must not be negative/);
});

test('locks on the user, a role, the device or the database refuse issuance with the lock message', async () => {
  for (const target of [
    { kind: 'user', value: 'alice' },
    { kind: 'role', value: 'dba' },
    { kind: 'device', value: 'dev-1' },
    { kind: 'db', value: 'orders' },
  ] as LockTarget[]) {
    const { cas, deps, audit } = await setup([target]);
    const { publicKey } = p256();
    const caller = await loginCert(cas, publicKey, new Date(Date.now() + 3600_000), true);
    await assert.rejects(
      issueRouteCertificate(deps, caller, request(publicKey)),
      (e: unknown) =>
        e instanceof GatehouseError &&
        e.code === ErrorCode.ACCESS_DENIED &&
        e.message === `lock targeting ${target.kind} "${target.value}" is in force`,
    );
    assert.equal((await audit.search({ type: 'cert.create' })).events.length, 0);
    assert.equal((await audit.search({ type: 'access.denied' })).events.length, 1);
  }
});

test('unknown databases, other keys, other kinds, bad names and route certificates are refused', async () => {
  const { cas, deps } = await setup();
  const { publicKey } = p256();
  const caller = await loginCert(cas, publicKey, new Date(Date.now() + 3600_000));
  const code = (c: string) => (e: unknown) => e instanceof GatehouseError && e.code === c;
  await assert.rejects(issueRouteCertificate(deps, caller, request(publicKey, { name: 'nope' })), code('DB_NOT_FOUND'));
  await assert.rejects(
    issueRouteCertificate(deps, caller, request(p256().publicKey)),
    /key of the calling certificate/,
  );
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  await assert.rejects(issueRouteCertificate(deps, caller, request(rsa)), /must be an ECDSA P-256 key \(got rsa\)/);
  await assert.rejects(
    issueRouteCertificate(deps, caller, request(publicKey, { kind: 'kube' })),
    /route kind "kube" is not supported \(supported: db, app\)/,
  );
  await assert.rejects(
    issueRouteCertificate(deps, caller, request(publicKey, { name: '../x' })),
    /is not a valid name/,
  );
  await assert.rejects(
    issueRouteCertificate(deps, caller, request(publicKey, { dbUser: '-x' })),
    /not a valid database user/,
  );
  await assert.rejects(
    issueRouteCertificate(deps, caller, request(publicKey, { dbName: 'a b' })),
    /not a valid database name/,
  );
  await assert.rejects(
    issueRouteCertificate(deps, caller, request(publicKey, { tlsPublicKeyPem: 'x' })),
    /not a PEM public key/,
  );
  const routed = await issueRouteCertificate(deps, caller, request(publicKey));
  const der = new X509Certificate(routed.certPem).raw;
  const again = { identity: identityFromClientCert(der), certDer: der, address: '10.0.0.9' };
  await assert.rejects(
    issueRouteCertificate(deps, again, request(publicKey)),
    /route certificate cannot ask for another/,
  );
});

test('an app route certificate names the app only; unknown apps, db fields and app locks are refused', async () => {
  const { cas, deps, audit } = await setup();
  const { publicKey } = p256();
  const caller = await loginCert(cas, publicKey, new Date(Date.now() + 8 * 3600_000), true);
  const app = (extra: Partial<RouteCertRequest>) =>
    request(publicKey, { kind: 'app', name: 'grafana', dbUser: '', ...extra });
  const issued = await issueRouteCertificate(deps, caller, app({}));
  const id = identityFromClientCert(new X509Certificate(issued.certPem).raw);
  assert.deepEqual(id.route, { kind: 'app', name: 'grafana' });
  assert.deepEqual(id.device, DEVICE);
  const [event] = (await audit.search({ type: 'cert.create' })).events;
  assert.equal(event?.['route_kind'], 'app');
  assert.equal(event?.['route_name'], 'grafana');
  const code = (c: string) => (e: unknown) => e instanceof GatehouseError && e.code === c;
  await assert.rejects(issueRouteCertificate(deps, caller, app({ name: 'wiki' })), code('APP_NOT_FOUND'));
  await assert.rejects(issueRouteCertificate(deps, caller, app({ dbUser: 'x' })), /for database routes only/);
  await assert.rejects(issueRouteCertificate(deps, caller, app({ dbName: 'x' })), /for database routes only/);
  await assert.rejects(issueRouteCertificate(deps, caller, app({ name: 'A B' })), /^GatehouseError: app name: /);

  const locked = await setup([{ kind: 'app', value: 'grafana' }]);
  const lockedCaller = await loginCert(locked.cas, publicKey, new Date(Date.now() + 3600_000));
  await assert.rejects(
    issueRouteCertificate(locked.deps, lockedCaller, app({})),
    (e: unknown) => e instanceof GatehouseError && e.message === 'lock targeting app "grafana" is in force',
  );
});
