// App gateways against a fake TLS proxy (test-support/fake-app-proxy.ts) in front of a real
// node:http upstream and a real TCP echo service: HTTP requests relayed with keep-alive, the
// route certificate issued once for many connections, TLS sessions resumed, ALPN by app kind,
// and every refusal answered as a person should see it — the denial page for HTTP apps
// (text/plain for curl, HTML for a browser, every request on the connection), a closed
// connection plus a refusal event for TCP apps, the same page when the proxy is unreachable or
// the login expired.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { APP_UNTRUSTED_DEVICE_MESSAGE } from '../../../src-shared/app-pages.ts';
import { ALPN_APP, ALPN_TCP } from '../../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { parseProxyAddress } from '../../core/proxy-address.ts';
import type { Profile } from '../../core/profiles.ts';
import { renewalTime, RouteCertificates } from '../../core/route-certs.ts';
import { builtinRouteProtocols, GatewayService, type RouteAccess } from '../gateway-service.ts';
import type { GatewayRoute } from '../route.ts';
import { startFakeAppProxy, type FakeAppProxy } from '../test-support/fake-app-proxy.ts';

const web: GatewayRoute = { kind: 'app', name: 'grafana', protocol: 'http' };
const denied: GatewayRoute = { kind: 'app', name: 'payroll', protocol: 'http' };
const tcp: GatewayRoute = { kind: 'app', name: 'redis', protocol: 'tcp' };
const tcpDenied: GatewayRoute = { kind: 'app', name: 'redis-prod', protocol: 'tcp' };

/** One HTTP request on `agent` (keep-alive when the agent keeps sockets). */
function get(
  port: number,
  path: string,
  opts: { agent?: http.Agent; accept?: string } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      {
        host: '127.0.0.1',
        port,
        path,
        agent: opts.agent ?? false,
        headers: opts.accept ? { accept: opts.accept } : {},
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.once('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
      },
    );
    req.once('error', reject);
  });
}

function connectAndCollect(port: number): Promise<{ received: string; closedWithin: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const s = net.connect({ host: '127.0.0.1', port });
    let received = '';
    s.on('data', (d) => (received += d));
    s.once('error', reject);
    s.once('close', () => resolve({ received, closedWithin: Date.now() - started }));
  });
}

describe('app gateways through the proxy', () => {
  let proxy: FakeAppProxy;
  let upstream: http.Server;
  let echo: net.Server;
  let issued = 0;
  let access: RouteAccess;
  const gateways = new GatewayService({ protocols: builtinRouteProtocols() });

  before(async () => {
    proxy = await startFakeAppProxy();
    upstream = http.createServer((req, res) => res.end(`hello ${req.url}`));
    echo = net.createServer((s) => s.pipe(s));
    for (const s of [upstream, echo]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s: net.Server | http.Server) => (s.address() as net.AddressInfo).port;
    proxy.routes.set('grafana', { upstreamPort: port(upstream) });
    proxy.routes.set('redis', { upstreamPort: port(echo) });
    const refuse = { code: ErrorCode.DEVICE_UNTRUSTED, message: APP_UNTRUSTED_DEVICE_MESSAGE };
    proxy.routes.set('payroll', { refuse });
    proxy.routes.set('redis-prod', { refuse: { code: ErrorCode.ACCESS_DENIED, message: 'access to app denied' } });
    // The client core's real cache in front of a counting issuer: one certificate per route.
    const certs = new RouteCertificates({
      clock: () => new Date(),
      issue: async () => {
        issued++;
        return { certPem: proxy.userCert.certPem, expiresAt: new Date(Date.now() + 3600_000) };
      },
    });
    const profile = { proxy: `127.0.0.1:${proxy.port}`, user: 'alice' } as Profile;
    access = {
      proxy: parseProxyAddress(`127.0.0.1:${proxy.port}`),
      proxyCaPem: proxy.proxyCaPem,
      certificateFor: async (route) => {
        const c = await certs.get(profile, 'login-cert', { kind: 'app', name: route.name });
        return { certPem: c.certPem, keyPem: proxy.userCert.keyPem, renewAt: renewalTime(c), expiresAt: c.expiresAt };
      },
      timeoutMs: 5000,
    };
  });

  after(async () => {
    await gateways.closeAll();
    await proxy.close();
    upstream.closeAllConnections();
    for (const s of [upstream, echo]) await new Promise<void>((r) => s.close(() => r()));
  });

  test('HTTP: requests reach the upstream over ALPN gatehouse-app; one certificate, TLS sessions resumed', async () => {
    proxy.seen.length = 0;
    issued = 0;
    const info = await gateways.create({ route: web, access: () => access });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(issued, 1, 'the route certificate is fetched when the gateway starts, before any connection');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 5; i++) assert.deepEqual((await get(info.localPort, `/k${i}`, { agent })).body, `hello /k${i}`);
    agent.destroy();
    assert.equal(proxy.seen.length, 1, 'keep-alive: five requests, one tunnel');
    for (let i = 0; i < 4; i++) assert.equal((await get(info.localPort, `/n${i}`)).body, `hello /n${i}`);
    assert.equal(issued, 1, 'every connection reused the one route certificate');
    assert.deepEqual(
      proxy.seen.map((s) => [s.alpn, s.app, s.clientCn]),
      Array(5).fill([ALPN_APP, 'grafana', 'alice']),
    );
    assert.equal(proxy.seen[0]!.resumed, false);
    assert.ok(
      proxy.seen.slice(1).every((s) => s.resumed),
      'later tunnels resume the TLS session',
    );
    await gateways.close(info.id);
  });

  test('HTTP refusal: each request gets the denial page (curl: text, browser: HTML); the gateway keeps serving', async () => {
    const info = await gateways.create({ route: denied, access: () => access });
    const refusals: GatehouseError[] = [];
    gateways.get(info.id).onRefused((e) => refusals.push(e));
    const curl = await get(info.localPort, '/', { accept: '*/*' });
    assert.equal(curl.status, 403);
    assert.match(curl.headers['content-type'] ?? '', /^text\/plain/);
    assert.match(curl.body, new RegExp(`^${APP_UNTRUSTED_DEVICE_MESSAGE}\n`));
    assert.match(curl.body, /enroll/);
    const browser = await get(info.localPort, '/dashboard', { accept: 'text/html,application/xhtml+xml' });
    assert.equal(browser.status, 403);
    assert.match(browser.body, new RegExp(`<h1>${APP_UNTRUSTED_DEVICE_MESSAGE}</h1>`));
    assert.equal(browser.headers['x-gatehouse-error-code'], ErrorCode.DEVICE_UNTRUSTED);
    assert.equal(browser.headers.connection, 'close', 'the next request dials afresh');
    assert.deepEqual(
      refusals.map((e) => e.code),
      [ErrorCode.DEVICE_UNTRUSTED, ErrorCode.DEVICE_UNTRUSTED],
    );
    assert.equal(gateways.get(info.id).info().lastRefusal?.message, APP_UNTRUSTED_DEVICE_MESSAGE);
    await gateways.close(info.id);
  });

  test('TCP: bytes relayed over ALPN gatehouse-tcp; a refusal closes the connection and is reported', async () => {
    proxy.seen.length = 0;
    const ok = await gateways.create({ route: tcp, access: () => access });
    const s = net.connect({ host: '127.0.0.1', port: ok.localPort });
    const echoed = new Promise<string>((resolve) => s.once('data', (d) => resolve(String(d))));
    s.write('PING\r\n');
    assert.equal(await echoed, 'PING\r\n');
    s.destroy();
    assert.deepEqual(proxy.seen.at(-1)?.alpn, ALPN_TCP);

    const no = await gateways.create({ route: tcpDenied, access: () => access });
    const reported = new Promise<GatehouseError>((resolve) => gateways.get(no.id).onRefused(resolve));
    const r = await connectAndCollect(no.localPort);
    assert.equal(r.received, '', 'a TCP client gets no bytes it would misread');
    const e = await reported;
    assert.equal(e.code, ErrorCode.ACCESS_DENIED);
    assert.equal(e.message, 'access to app denied');
    await gateways.closeAll();
  });

  test('an unreachable proxy and an expired login are the same page with their own code', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
    const deadPort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const unreachable = { ...access, proxy: parseProxyAddress(`127.0.0.1:${deadPort}`) };
    const info = await gateways.create({ route: web, access: () => unreachable });
    const r = await get(info.localPort, '/');
    assert.equal(r.headers['x-gatehouse-error-code'], ErrorCode.PROXY_UNREACHABLE);
    assert.match(r.body, /127\.0\.0\.1/);

    let expired = false;
    const expiring = await gateways.create({
      route: web,
      access: () => {
        if (expired) throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'your login expired; run "gate login" again');
        return access;
      },
    });
    expired = true;
    const page = await get(expiring.localPort, '/', { accept: 'text/html' });
    assert.equal(page.status, 401);
    assert.match(page.body, /your login expired/);
    assert.match(page.body, /Log in again/);
    await gateways.closeAll();
  });

  test('a route certificate the proxy does not trust is refused, and an app route must name http or tcp', async () => {
    const stranger = { ...access, certificateFor: async () => proxy.strangerCert };
    const info = await gateways.create({ route: web, access: () => stranger });
    const r = await get(info.localPort, '/');
    assert.equal(r.status, 401);
    assert.equal(r.headers['x-gatehouse-error-code'], ErrorCode.NOT_LOGGED_IN);
    await assert.rejects(
      gateways.create({ route: { kind: 'app', name: 'grafana' }, access: () => access }),
      /protocol of an app gateway must be one of http, tcp/,
    );
    await gateways.closeAll();
  });
});
