import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { SqliteBackend } from '../storage/sqlite.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { CertRoute } from '../../src-shared/cert-fields.ts';
import { newApp } from '../resources/app.ts';
import type { UserResource } from '../resources/user.ts';
import { JwtAuthority, loadOrCreateAuthorities, type CertAuthorities } from './authorities.ts';
import { AppTokenSigner, issueAppToken, type AppTokenDeps } from './app-tokens.ts';
import { createCertAuthority, issueClientCert } from './x509.ts';

const DEVICE = { deviceId: 'dev-1', assetTag: 'SN-1', credentialId: 'cred-1' };
const NOW = Date.now();
const backends: SqliteBackend[] = [];
after(() => Promise.all(backends.map((b) => b.close())));

async function setup() {
  const backend = await SqliteBackend.open({ path: ':memory:' });
  backends.push(backend);
  const cas = await loadOrCreateAuthorities(backend, 'prod-cluster', createMemoryLogger());
  const signer = new AppTokenSigner(cas.jwt, 'prod-cluster');
  const grafana = newApp('grafana', { uri: 'http://127.0.0.1:3000' });
  const alice: UserResource = {
    kind: 'user',
    version: 'v2',
    metadata: { name: 'alice' },
    spec: { roles: ['apps'], traits: { logins: ['alice', 'root'], db_users: ['ro'] } },
  };
  const deps: AppTokenDeps = {
    signer,
    userCaPems: () => [cas.tlsUser.material.certPem],
    findApp: async (name) => (name === 'grafana' ? grafana : undefined),
    findUser: async (name) => (name === 'alice' ? alice : undefined),
  };
  return { cas, signer, deps };
}

async function userCert(
  cas: Pick<CertAuthorities, 'tlsUser'>,
  opts: { route?: CertRoute; device?: boolean; notAfter?: number; user?: string } = {},
) {
  return issueClientCert({
    ca: cas.tlsUser.material,
    publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey,
    notBefore: new Date(NOW - 60_000),
    notAfter: new Date(opts.notAfter ?? NOW + 3600_000),
    user: opts.user ?? 'alice',
    roles: ['apps', 'access'],
    logins: ['alice'],
    ...(opts.device ? { device: DEVICE } : {}),
    ...('route' in opts ? (opts.route ? { route: opts.route } : {}) : { route: { kind: 'app', name: 'grafana' } }),
  });
}

test('a token verifies with jose against the JWKS and carries the claims of docs/app-access.md', async () => {
  const { cas, signer, deps } = await setup();
  const signed = await issueAppToken(deps, await userCert(cas, { device: true }), 'grafana', NOW);
  const jwks = await signer.jwks();
  assert.equal(jwks.keys.length, 1);
  const [key] = jwks.keys;
  assert.deepEqual(
    { kty: key?.kty, crv: key?.crv, alg: key?.alg, use: key?.use, d: key?.d },
    { kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', d: undefined },
  );
  assert.equal(key?.kid, await calculateJwkThumbprint(cas.jwt.publicKey));
  assert.deepEqual(decodeProtectedHeader(signed.jwt), { alg: 'ES256', kid: key?.kid, typ: 'JWT' });
  const { payload } = await jwtVerify(signed.jwt, createLocalJWKSet(jwks), {
    issuer: 'prod-cluster',
    audience: 'http://127.0.0.1:3000',
    currentDate: new Date(NOW),
  });
  const iat = Math.floor(NOW / 1000);
  assert.deepEqual(payload, {
    iss: 'prod-cluster',
    sub: 'alice',
    aud: 'http://127.0.0.1:3000',
    username: 'alice',
    roles: ['apps', 'access'],
    traits: {
      logins: ['alice', 'root'],
      db_users: ['ro'],
      db_names: [],
      kubernetes_groups: [],
      kubernetes_users: [],
    },
    device_trusted: true,
    device_id: 'dev-1',
    iat,
    nbf: iat,
    exp: iat + 600,
  });
  assert.equal(signed.expires.getTime(), (iat + 600) * 1000);
});

test('without device fields the token says so; it never outlives the certificate', async () => {
  const { cas, signer, deps } = await setup();
  const soon = NOW + 120_000;
  const signed = await issueAppToken(deps, await userCert(cas, { notAfter: soon }), 'grafana', NOW);
  const { payload } = await jwtVerify(signed.jwt, createLocalJWKSet(await signer.jwks()), {
    currentDate: new Date(NOW),
  });
  assert.equal(payload.device_trusted, false);
  assert.equal(payload.device_id, undefined);
  assert.equal(payload.exp, Math.floor(soon / 1000));
});

test('a token from another key does not verify against the JWKS', async () => {
  const { signer } = await setup();
  const rogue = new AppTokenSigner(
    new JwtAuthority(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey),
    'prod-cluster',
  );
  const forged = await rogue.sign({
    user: 'admin',
    roles: [],
    traits: {},
    audience: 'http://127.0.0.1:3000',
    certNotAfter: new Date(NOW + 3600_000),
  });
  await assert.rejects(jwtVerify(forged.jwt, createLocalJWKSet(await signer.jwks())), /no applicable key found/);
});

test('bad certificates, other routes, unknown apps and vanished users get no token', async () => {
  const { cas, deps } = await setup();
  const code = (c: string, message?: RegExp) => (e: unknown) =>
    e instanceof GatehouseError && e.code === c && (!message || message.test(e.message));
  const other = { tlsUser: { material: await createCertAuthority('other CA', 'x') } } as never;
  await assert.rejects(issueAppToken(deps, await userCert(other), 'grafana', NOW), code(ErrorCode.CERT_INVALID));
  await assert.rejects(
    issueAppToken(deps, await userCert(cas, { notAfter: NOW - 1000 }), 'grafana', NOW),
    code(ErrorCode.CERT_EXPIRED),
  );
  await assert.rejects(issueAppToken(deps, 'not a cert', 'grafana', NOW), code(ErrorCode.BAD_REQUEST));
  await assert.rejects(
    issueAppToken(deps, await userCert(cas, { route: undefined }), 'grafana', NOW),
    code(ErrorCode.ACCESS_DENIED, /names no route/),
  );
  await assert.rejects(
    issueAppToken(deps, await userCert(cas, { route: { kind: 'db', name: 'grafana' } }), 'grafana', NOW),
    code(ErrorCode.ACCESS_DENIED, /for a db route, not an app/),
  );
  await assert.rejects(
    issueAppToken(deps, await userCert(cas, { route: { kind: 'app', name: 'wiki' } }), 'wiki', NOW),
    code(ErrorCode.APP_NOT_FOUND, /app "wiki" not found/),
  );
  await assert.rejects(
    issueAppToken(deps, await userCert(cas), 'wiki', NOW),
    code(ErrorCode.ACCESS_DENIED, /for app "grafana", not "wiki"/),
  );
  await assert.rejects(
    issueAppToken(deps, await userCert(cas, { user: 'bob' }), 'grafana', NOW),
    code(ErrorCode.ACCESS_DENIED, /user "bob" no longer exists/),
  );
});
