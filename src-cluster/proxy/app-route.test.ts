// The proxy's app routes over real TLS on loopback: a client with a route certificate, the proxy,
// and a stand-in app service (host certificate of role "app") that records the forwarded header
// and echoes. Covers what the proxy refuses itself (route, expiry, ALPN/kind, unknown app, no
// app service) and what it forwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { ALPN_APP, ALPN_APP_SERVICE, ALPN_TCP } from '../../src-shared/cert-fields.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import type { ProxyServer } from './proxy.ts';
import type { RoutableApp } from './app-route.ts';
import type { RoutableService } from './service-route.ts';
import { hostPair, makeDbTestPki, routeCert, type DbTestPki, type KeyAndCert } from '../db/test-support/db-pki.ts';
import { hostTlsOf, openRoute, serviceStandIn, startTestProxy } from './test-support/route-test-bed.ts';

let pki: DbTestPki;
let proxyPair: KeyAndCert;
let proxy: ProxyServer;
let proxyPort: number;
const standIns: tls.Server[] = [];
const headers: Record<string, unknown>[] = [];
const apps = new Map<string, RoutableApp>();
const services = new Map<string, RoutableService>();

before(async () => {
  pki = await makeDbTestPki();
  proxyPair = await hostPair(pki.hostCa, 'proxy', 'proxy1');
  const appService = await serviceStandIn(pki, 'app', ALPN_APP_SERVICE, headers);
  const dbService = await serviceStandIn(pki, 'db', ALPN_APP_SERVICE, headers);
  standIns.push(appService.server, dbService.server);
  for (const [name, kind] of [
    ['grafana', 'http'],
    ['redis', 'tcp'],
    ['lonely', 'http'],
    ['down', 'http'],
    ['impostor', 'http'],
  ] as const)
    apps.set(name, { name, kind });
  services.set('grafana', { name: 'apps1', address: appService.address });
  services.set('redis', { name: 'apps1', address: appService.address });
  services.set('down', { name: 'apps9', address: '127.0.0.1:1' });
  services.set('impostor', { name: 'db1', address: dbService.address });
  ({ proxy, port: proxyPort } = await startTestProxy(pki, proxyPair, {
    apps: {
      findApp: async (name) => apps.get(name),
      appServiceFor: async (name) => services.get(name),
      hostTls: () => hostTlsOf(pki, proxyPair),
    },
  }));
});

after(async () => {
  await proxy.close();
  for (const s of standIns) s.close();
});

/** Opens the route with the gateway's header ({"app"} for a name, else the object as sent). */
const open = (client: KeyAndCert, app: string | object, alpn = ALPN_APP) =>
  openRoute(proxyPort, pki, client, typeof app === 'string' ? { app } : app, alpn);

const route = (name: string) => routeCert(pki.userCa, { user: 'alice', roles: ['dev'], route: { kind: 'app', name } });

test('a route certificate for the app is forwarded to its app service and bytes relay both ways', async () => {
  const cert = await route('grafana');
  const { socket, refusal } = await open(cert, 'grafana');
  assert.equal(refusal, undefined);
  const echoed = new Promise<string>((resolve) => socket.once('data', (d: Buffer) => resolve(d.toString())));
  socket.resume();
  socket.write('GET / HTTP/1.1\r\n\r\n');
  assert.equal(await echoed, 'echo:GET / HTTP/1.1\r\n\r\n');
  const h = headers.at(-1)!;
  assert.deepEqual(
    { app: h['app'], kind: h['kind'], alpn: h['alpn'] },
    { app: 'grafana', kind: 'http', alpn: ALPN_APP_SERVICE },
  );
  assert.deepEqual(Object.keys(h).sort(), ['alpn', 'app', 'client_addr', 'kind', 'user_cert_pem']);
  assert.equal(
    new X509Certificate(String(h['user_cert_pem'])).fingerprint256,
    new X509Certificate(cert.certPem).fingerprint256,
  );
  assert.match(String(h['client_addr']), /^127\.0\.0\.1:\d+$/);
  socket.destroy();
});

test('a TCP app is routed over gatehouse-tcp with kind "tcp"', async () => {
  const { socket, refusal } = await open(await route('redis'), 'redis', ALPN_TCP);
  assert.equal(refusal, undefined);
  assert.equal(headers.at(-1)!['kind'], 'tcp');
  socket.destroy();
});

test('certificates that are not route certificates for this app are refused at the proxy', async () => {
  const plain = await routeCert(pki.userCa, { user: 'alice' });
  const noRoute = (await open(plain, 'grafana')).refusal!;
  assert.equal(noRoute.code, ErrorCode.ACCESS_DENIED);
  assert.match(noRoute.message, /names no route; get an app certificate \("gate app login"\)/);
  const other = (await open(await route('kibana'), 'grafana')).refusal!;
  assert.equal(other.code, ErrorCode.ACCESS_DENIED);
  assert.match(other.message, /for app "kibana", not "grafana"/);
  const db = await routeCert(pki.userCa, { user: 'alice', route: { kind: 'db', name: 'grafana' } });
  assert.match((await open(db, 'grafana')).refusal!.message, /db route, not an app/);
  const hostAsUser = (await open(proxyPair, 'grafana')).refusal!;
  assert.equal(hostAsUser.code, ErrorCode.ACCESS_DENIED);
  assert.match(hostAsUser.message, /only user certificates/);
});

test('an expired app certificate is refused with CERT_EXPIRED, a foreign one as not logged in', async () => {
  const expired = await routeCert(pki.userCa, {
    user: 'alice',
    route: { kind: 'app', name: 'grafana' },
    notBeforeMs: -7200_000,
    notAfterMs: -3600_000,
  });
  const refused = (await open(expired, 'grafana')).refusal!;
  assert.equal(refused.code, ErrorCode.CERT_EXPIRED);
  assert.match(refused.message, /expired; log in again/);
  const foreign = await routeCert((await makeDbTestPki()).userCa, {
    user: 'alice',
    route: { kind: 'app', name: 'grafana' },
  });
  assert.equal((await open(foreign, 'grafana')).refusal?.code, ErrorCode.NOT_LOGGED_IN);
});

test('the app kind must match the ALPN', async () => {
  const http = (await open(await route('grafana'), 'grafana', ALPN_TCP)).refusal!;
  assert.equal(http.code, ErrorCode.BAD_REQUEST);
  assert.match(http.message, /app "grafana" is an HTTP app, not a TCP app/);
  const tcp = (await open(await route('redis'), 'redis', ALPN_APP)).refusal!;
  assert.match(tcp.message, /app "redis" is a TCP app, not an HTTP app/);
});

test('unknown apps, missing or unreachable app services and impostors are refused with codes', async () => {
  const refusal = async (name: string) => (await open(await route(name), name)).refusal!;
  const unknown = await refusal('nope');
  assert.deepEqual([unknown.code, unknown.message], [ErrorCode.APP_NOT_FOUND, 'app "nope" not found']);
  const lonely = await refusal('lonely');
  assert.equal(lonely.code, ErrorCode.APP_UNREACHABLE);
  assert.match(lonely.message, /no app service serving app "lonely" is online/);
  const down = await refusal('down');
  assert.equal(down.code, ErrorCode.APP_UNREACHABLE);
  assert.match(down.message, /app service "apps9" for app "down" at 127\.0\.0\.1:1 is unreachable: ECONNREFUSED/);
  const impostor = await refusal('impostor');
  assert.equal(impostor.code, ErrorCode.APP_UNREACHABLE);
  assert.match(impostor.message, /its certificate is not an app service's/);
});

test('a malformed header is refused naming the field', async () => {
  const refused = (await open(await route('grafana'), { app: 'grafana', extra: 1 })).refusal!;
  assert.equal(refused.code, ErrorCode.BAD_REQUEST);
  assert.match(refused.message, /extra/);
});
