// The app service's HTTP reverse proxy over real TLS on loopback: a "proxy" connection with the
// forwarded header, then real HTTP/1.1 and WebSocket clients on that stream against a plain
// node:http + ws upstream. Covers the headers the upstream sees (JWT verifiable with the JWKS,
// a forged one stripped, X-Forwarded-*, Host, rewrite, path prefix, hop-by-hop), keep-alive with
// one signing call, a large streamed download, a chunked upload, a WebSocket echo, the per-request
// refusal after a lock and a role change, a lock cutting a WebSocket, and an upstream that is down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { hostPair } from '../db/test-support/db-pki.ts';
import { APP_UNTRUSTED_DEVICE_MESSAGE } from '../../src-shared/app-pages.ts';
import { appCert, startAppHarness, type AppHarness, type KeyAndCert } from './test-support/app-harness.ts';
import {
  agentOver,
  request,
  startHttpEchoUpstream,
  webSocketOver,
  type EchoReply,
  type Upstream,
} from './test-support/upstreams.ts';

let h: AppHarness;
let upstream: Upstream;
let cert: KeyAndCert;

before(async () => {
  // Every request decided in full, so a role change shows on the very next request.
  h = await startAppHarness({ decisionReuseMs: 0 });
  upstream = await startHttpEchoUpstream();
  h.apps.set('grafana', {
    name: 'grafana',
    labels: { env: 'prod' },
    uri: `http://127.0.0.1:${upstream.port}/base/`,
    rewrite: { headers: [{ name: 'X-Env', value: 'prod' }] },
  });
  h.apps.set('plain', { name: 'plain', labels: {}, uri: `http://127.0.0.1:${upstream.port}` });
  h.apps.set('down', { name: 'down', labels: {}, uri: 'http://127.0.0.1:1' });
  cert = await appCert(h.pki, 'grafana');
});

after(async () => {
  await h.close();
  await upstream.close();
});

function header(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

test('the upstream sees Host, X-Forwarded-*, the rewrite header, the path prefix and one verifiable JWT', async () => {
  const stream = await h.connect({ app: 'grafana', user_cert_pem: cert.certPem });
  const agent = agentOver(stream);
  const signsBefore = h.signCalls;
  const res = await request(agent, {
    path: '/api/health?x=1',
    headers: [
      'Host',
      'localhost:8888',
      'Gatehouse-Jwt-Assertion',
      'forged.token.here',
      'gatehouse-jwt-assertion',
      'another-forged',
      'X-Forwarded-For',
      '192.0.2.7',
      'X-Forwarded-Host',
      'evil.example',
      'X-Env',
      'client-value',
      'Connection',
      'keep-alive, X-Secret-Hop',
      'X-Secret-Hop',
      'must-not-pass',
      'Proxy-Authorization',
      'Basic abc',
    ],
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-upstream'], 'echo');
  assert.notEqual(res.headers['keep-alive'], 'timeout=5', "the upstream's hop-by-hop Keep-Alive dropped");
  const echo = JSON.parse(res.body.toString()) as EchoReply;
  assert.equal(echo.url, '/base/api/health?x=1');
  assert.deepEqual(header(echo.rawHeaders, 'host'), [`127.0.0.1:${upstream.port}`]);
  assert.deepEqual(header(echo.rawHeaders, 'x-forwarded-host'), ['localhost:8888']);
  assert.deepEqual(header(echo.rawHeaders, 'x-forwarded-proto'), ['http']);
  assert.deepEqual(header(echo.rawHeaders, 'x-forwarded-for'), ['192.0.2.7, 10.1.2.3']);
  assert.deepEqual(header(echo.rawHeaders, 'x-env'), ['prod']);
  assert.deepEqual(header(echo.rawHeaders, 'x-secret-hop'), []);
  assert.deepEqual(header(echo.rawHeaders, 'proxy-authorization'), []);
  assert.deepEqual(header(echo.rawHeaders, 'via'), []);
  const jwts = header(echo.rawHeaders, 'gatehouse-jwt-assertion');
  assert.equal(jwts.length, 1, 'exactly one JWT: every client copy removed');
  const { payload, protectedHeader } = await jwtVerify(jwts[0]!, createLocalJWKSet(h.jwks), {
    audience: h.apps.get('grafana')!.uri,
  });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload['username'], 'alice');

  // Keep-alive: more requests on the same stream reuse the token and the upstream connection.
  const connectionsBefore = upstream.connections;
  for (let i = 0; i < 5; i++) assert.equal((await request(agent, { path: `/n/${i}` })).status, 200);
  assert.equal(h.signCalls - signsBefore, 1, 'one signing call for the session');
  assert.ok(upstream.connections - connectionsBefore <= 1, 'upstream connection kept alive');
  stream.destroy();
});

test('a 64 MiB download streams through; a chunked upload arrives whole', async () => {
  const stream = await h.connect({ app: 'grafana', user_cert_pem: cert.certPem });
  const agent = agentOver(stream);
  const size = 64 << 20;
  const big = await request(agent, { path: `/big?bytes=${size}` });
  assert.equal(big.status, 200);
  assert.equal(big.body.length, size);
  const chunks = Array.from({ length: 40 }, (_, i) => Buffer.alloc(100_000, i));
  const up = await request(agent, { method: 'POST', path: '/upload', body: chunks });
  const echo = JSON.parse(up.body.toString()) as EchoReply;
  assert.equal(echo.bodyBytes, 4_000_000);
  assert.equal(echo.chunked, true);
  const sized = await request(agent, { method: 'PUT', path: '/upload', body: Buffer.alloc(12345, 1) });
  assert.equal((JSON.parse(sized.body.toString()) as EchoReply).bodyBytes, 12345);
  stream.destroy();
});

test('a WebSocket echoes through; a lock closes it within moments', async () => {
  const lockedCert = await appCert(h.pki, 'plain', { user: 'wsuser' });
  const stream = await h.connect({ app: 'plain', user_cert_pem: lockedCert.certPem });
  const ws = await webSocketOver(stream);
  const echoed = new Promise<string>((resolve) => ws.once('message', (m) => resolve(String(m))));
  ws.send('hello through the gateway');
  assert.equal(await echoed, 'hello through the gateway');
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  h.lock('lock-ws', 'lock targeting User:"wsuser" is in force: investigating', { kind: 'user', value: 'wsuser' });
  await closed;
  await waitFor(() => h.audit.some((e) => e.type === 'app.session.end' && e.message?.includes('investigating')));
});

test('after a lock the next request on a kept-alive connection gets the lock page, then the connection closes', async () => {
  const bobCert = await appCert(h.pki, 'grafana', { user: 'bob' });
  const stream = await h.connect({ app: 'grafana', user_cert_pem: bobCert.certPem });
  const agent = agentOver(stream);
  assert.equal((await request(agent, { path: '/ok' })).status, 200);
  const message = 'lock targeting User:"bob" is in force: laptop stolen';
  h.lock('lock-bob', message, { kind: 'user', value: 'bob' });
  const page = await request(agent, { path: '/after', headers: { accept: 'text/html' } });
  assert.equal(page.status, 403);
  assert.equal(page.headers['x-gatehouse-error-code'], 'ACCESS_DENIED');
  assert.match(page.body.toString(), /laptop stolen/);
  await waitFor(() => stream.destroyed || stream.readableEnded);
});

test('every request is decided again: a role change refuses the next one with the exact words', async () => {
  const stream = await h.connect({ app: 'grafana', user_cert_pem: cert.certPem });
  const agent = agentOver(stream);
  assert.equal((await request(agent, { path: '/1' })).status, 200);
  const calls = h.authorizeCalls;
  assert.equal((await request(agent, { path: '/2' })).status, 200);
  assert.equal(h.authorizeCalls, calls + 1, 'the authorizer asked for the request');
  const saved = h.decide.next;
  h.decide.next = () => ({ allowed: false, reason: 'unauthorized device' });
  try {
    const page = await request(agent, { path: '/3', headers: { accept: '*/*' } });
    assert.equal(page.status, 403);
    assert.equal(page.headers['content-type'], 'text/plain; charset=utf-8');
    assert.ok(page.body.toString().startsWith(`${APP_UNTRUSTED_DEVICE_MESSAGE}\n`));
  } finally {
    h.decide.next = saved;
  }
});

test('an upstream that is down answers 502 APP_UNREACHABLE', async () => {
  const downCert = await appCert(h.pki, 'down');
  const stream = await h.connect({ app: 'down', user_cert_pem: downCert.certPem });
  const res = await request(agentOver(stream), { path: '/' });
  assert.equal(res.status, 502);
  assert.equal(res.headers['x-gatehouse-error-code'], 'APP_UNREACHABLE');
});

test('the request events carry method, path without query, status and bytes', async () => {
  await waitFor(() => h.audit.some((e) => e.type === 'app.session.request' && e.fields?.['path'] === '/api/health'));
  const event = h.audit.find((e) => e.type === 'app.session.request' && e.fields?.['path'] === '/api/health')!;
  assert.equal(event.fields?.['method'], 'GET');
  assert.equal(event.fields?.['status'], 200);
  assert.ok(Number(event.fields?.['bytes_out']) > 0);
  assert.ok(Number(event.fields?.['bytes_in']) > 0);
});

test('https upstreams are verified (a private CA is refused, 502) unless insecure_skip_verify', async () => {
  const pair = await hostPair(h.pki.hostCa, 'app', 'tls-upstream');
  const server = https.createServer({ cert: pair.certPem, key: pair.keyPem }, (_req, res) => res.end('secure ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    h.apps.set('strict', { name: 'strict', labels: {}, uri: `https://127.0.0.1:${port}` });
    h.apps.set('lenient', {
      name: 'lenient',
      labels: {},
      uri: `https://127.0.0.1:${port}`,
      insecure_skip_verify: true,
    });
    const strict = await h.connect({ app: 'strict', user_cert_pem: (await appCert(h.pki, 'strict')).certPem });
    const refused = await request(agentOver(strict), { path: '/' });
    assert.equal(refused.status, 502);
    assert.match(refused.body.toString(), /certificate/);
    const lenient = await h.connect({ app: 'lenient', user_cert_pem: (await appCert(h.pki, 'lenient')).certPem });
    const ok = await request(agentOver(lenient), { path: '/' });
    assert.equal(ok.body.toString(), 'secure ok');
    lenient.destroy();
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('a route certificate that expires mid-session refuses the next request (401 CERT_EXPIRED)', async () => {
  const shortCert = await appCert(h.pki, 'grafana', { user: 'shortlived', notAfterMs: 1_500 });
  const stream = await h.connect({ app: 'grafana', user_cert_pem: shortCert.certPem });
  const agent = agentOver(stream);
  assert.equal((await request(agent, { path: '/before' })).status, 200);
  await new Promise((r) => setTimeout(r, 1_600));
  const page = await request(agent, { path: '/after' });
  assert.equal(page.status, 401);
  assert.equal(page.headers['x-gatehouse-error-code'], 'CERT_EXPIRED');
});

test('request heads up to 64 KiB pass; larger ones get 431', async () => {
  const stream = await h.connect({ app: 'grafana', user_cert_pem: cert.certPem });
  const agent = agentOver(stream);
  const ok = await request(agent, { path: '/h', headers: { 'x-big': 'a'.repeat(40_000) } });
  assert.equal(ok.status, 200);
  const echo = JSON.parse(ok.body.toString()) as EchoReply;
  assert.equal(header(echo.rawHeaders, 'x-big')[0]?.length, 40_000);
  const tooBig = await request(agent, { path: '/h', headers: { 'x-big': 'a'.repeat(70_000) } });
  assert.equal(tooBig.status, 431);
});

test('an upgrade the upstream declines is passed on; a refused one gets the page', async () => {
  const c = await appCert(h.pki, 'plain', { user: 'upgrader' });
  const declined = await h.connect({ app: 'plain', user_cert_pem: c.certPem });
  await assert.rejects(webSocketOver(declined, '/not-a-socket'), /Unexpected server response: 400/);
  const refused = await h.connect({ app: 'plain', user_cert_pem: c.certPem });
  h.lock('lock-upgrader', 'lock targeting User:"upgrader" is in force: no', { kind: 'user', value: 'upgrader' });
  await assert.rejects(webSocketOver(refused), /Unexpected server response: 403/);
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
