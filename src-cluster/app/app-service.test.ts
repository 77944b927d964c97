// The app service's connection-level behaviour over real TLS on loopback: who may connect (only
// proxies), the refusals it answers on the reply line with the exact words of docs/app-access.md,
// the audit trail of a refused and an allowed session, the TCP relay (connect first, then ok),
// a lock cutting a TCP stream, and an HTTP request that arrives in the same packet as the header.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as tls from 'node:tls';
import { once } from 'node:events';
import { ALPN_APP_SERVICE } from '../../src-shared/cert-fields.ts';
import { readReply } from '../../src-shared/ssh-route.ts';
import { GatehouseError } from '../../src-shared/errors.ts';
import { APP_UNTRUSTED_DEVICE_MESSAGE } from '../../src-shared/app-pages.ts';
import { hostPair } from '../db/test-support/db-pki.ts';
import { APP_SERVICE_LABEL } from '../resources/app.ts';
import { appCert, startAppHarness, type AppHarness } from './test-support/app-harness.ts';
import {
  agentOver,
  request,
  startHttpEchoUpstream,
  startTcpEchoUpstream,
  type Upstream,
} from './test-support/upstreams.ts';

let h: AppHarness;
let web: Upstream;
let tcp: Upstream;

before(async () => {
  h = await startAppHarness({ tcpConnectTimeoutMs: 2_000, httpHeadersTimeoutMs: 1_000 });
  web = await startHttpEchoUpstream();
  tcp = await startTcpEchoUpstream();
  h.apps.set('grafana', { name: 'grafana', labels: { env: 'prod' }, uri: `http://127.0.0.1:${web.port}` });
  h.apps.set('redis', { name: 'redis', labels: {}, uri: `tcp://127.0.0.1:${tcp.port}` });
  h.apps.set('deadtcp', { name: 'deadtcp', labels: {}, uri: 'tcp://127.0.0.1:1' });
  h.apps.set('elsewhere', { name: 'elsewhere', labels: { [APP_SERVICE_LABEL]: 'app2' }, uri: 'http://127.0.0.1:1' });
});

after(async () => {
  await h.close();
  await web.close();
  await tcp.close();
});

async function refusal(p: Promise<unknown>): Promise<GatehouseError> {
  const err = await p.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof GatehouseError, String(err));
  return err;
}

test('only proxies may connect: a node host certificate is refused', async () => {
  const node = await hostPair(h.pki.hostCa, 'node', 'node1');
  const socket = tls.connect({
    host: '127.0.0.1',
    port: h.port,
    cert: node.certPem,
    key: node.keyPem,
    ca: [h.pki.hostCa.certPem],
    ALPNProtocols: [ALPN_APP_SERVICE],
    servername: 'localhost',
  });
  await once(socket, 'secureConnect');
  const err = await refusal(readReply(socket, 5_000));
  assert.equal(err.code, 'ACCESS_DENIED');
  assert.match(err.message, /only the cluster's proxies/);
  socket.destroy();
});

test('refusals on the reply line: wrong route, unknown app, other service, wrong kind', async () => {
  const forOther = await appCert(h.pki, 'other');
  let err = await refusal(h.connect({ app: 'grafana', user_cert_pem: forOther.certPem }));
  assert.equal(err.code, 'ACCESS_DENIED');
  assert.match(err.message, /certificate is for app "other", not "grafana"/);

  const nope = await appCert(h.pki, 'nope');
  err = await refusal(h.connect({ app: 'nope', user_cert_pem: nope.certPem }));
  assert.equal(err.code, 'APP_NOT_FOUND');

  const elsewhere = await appCert(h.pki, 'elsewhere');
  err = await refusal(h.connect({ app: 'elsewhere', user_cert_pem: elsewhere.certPem }));
  assert.equal(err.code, 'APP_NOT_FOUND');

  const redis = await appCert(h.pki, 'redis');
  err = await refusal(h.connect({ app: 'redis', kind: 'http', user_cert_pem: redis.certPem }));
  assert.equal(err.code, 'BAD_REQUEST');
  assert.match(err.message, /is a tcp app/);

  const expired = await appCert(h.pki, 'grafana', { notAfterMs: -1_000, user: 'late' });
  err = await refusal(h.connect({ app: 'grafana', user_cert_pem: expired.certPem }));
  assert.equal(err.code, 'CERT_EXPIRED');
});

test('the authorizer decides: exact words for an untrusted device, a role denial and a lock', async () => {
  const cert = await appCert(h.pki, 'grafana', { user: 'carol' });
  const saved = h.decide.next;
  try {
    h.decide.next = () => ({ allowed: false, reason: 'unauthorized device' });
    let err = await refusal(h.connect({ app: 'grafana', user_cert_pem: cert.certPem }));
    assert.equal(err.code, 'DEVICE_UNTRUSTED');
    assert.equal(err.message, APP_UNTRUSTED_DEVICE_MESSAGE);

    h.decide.next = () => ({ allowed: false, reason: 'app "grafana" is denied by role "no-prod"' });
    err = await refusal(h.connect({ app: 'grafana', user_cert_pem: cert.certPem }));
    assert.equal(err.code, 'ACCESS_DENIED');
    assert.equal(err.message, 'access to app denied: app "grafana" is denied by role "no-prod"');

    const lockText = 'lock targeting User:"carol" is in force: on leave';
    h.decide.next = () => ({ allowed: false, reason: lockText, recorded: true });
    err = await refusal(h.connect({ app: 'grafana', user_cert_pem: cert.certPem }));
    assert.equal(err.message, lockText);
  } finally {
    h.decide.next = saved;
  }
  const refused = h.audit.filter((e) => e.type === 'app.session.start' && e.user === 'carol');
  assert.equal(refused.length, 3);
  assert.equal(refused[0]!.success, false);
  assert.equal(refused[0]!.fields?.['error_code'], 'DEVICE_UNTRUSTED');
  assert.equal(refused[0]!.fields?.['app_uri'], h.apps.get('grafana')!.uri);
});

test('a TCP app: connected first, then ok; bytes relayed; start and end recorded with the device', async () => {
  const cert = await appCert(h.pki, 'redis', { user: 'dave', device: true });
  const stream = await h.connect({ app: 'redis', kind: 'tcp', user_cert_pem: cert.certPem });
  stream.write('PING\r\n');
  const [echo] = (await once(stream, 'data')) as [Buffer];
  assert.equal(echo.toString(), 'PING\r\n');
  stream.end();
  await once(stream, 'close');
  await waitFor(() => h.audit.some((e) => e.type === 'app.session.end' && e.user === 'dave'));
  const start = h.audit.find((e) => e.type === 'app.session.start' && e.user === 'dave')!;
  assert.equal(start.success, true);
  assert.equal(start.fields?.['kind'], 'tcp');
  assert.deepEqual(start.fields?.['trusted_device'], {
    device_id: 'dev-1',
    asset_tag: 'AT-1',
    credential_id: 'cred-1',
  });
  const end = h.audit.find((e) => e.type === 'app.session.end' && e.user === 'dave')!;
  assert.ok(Number(end.fields?.['bytes_in']) > 0);
});

test('a TCP app that is down: APP_UNREACHABLE on the reply line', async () => {
  const cert = await appCert(h.pki, 'deadtcp');
  const err = await refusal(h.connect({ app: 'deadtcp', kind: 'tcp', user_cert_pem: cert.certPem }));
  assert.equal(err.code, 'APP_UNREACHABLE');
});

test('a lock closes a live TCP stream', async () => {
  const cert = await appCert(h.pki, 'redis', { user: 'erin' });
  const stream = await h.connect({ app: 'redis', kind: 'tcp', user_cert_pem: cert.certPem });
  stream.write('x');
  await once(stream, 'data');
  const closed = once(stream, 'close');
  h.lock('lock-erin', 'lock targeting User:"erin" is in force: gone', { kind: 'user', value: 'erin' });
  await closed;
  await waitFor(() => h.audit.some((e) => e.type === 'app.session.end' && e.user === 'erin'));
  const end = h.audit.find((e) => e.type === 'app.session.end' && e.user === 'erin')!;
  assert.equal(end.fields?.['reason'], 'lock targeting User:"erin" is in force: gone');
});

test('an HTTP request in the same packet as the forwarded header is served', async () => {
  const cert = await appCert(h.pki, 'grafana');
  const proxyPair = await hostPair(h.pki.hostCa, 'proxy', 'proxy4');
  const s = tls.connect({
    host: '127.0.0.1',
    port: h.port,
    cert: proxyPair.certPem,
    key: proxyPair.keyPem,
    ca: [h.pki.hostCa.certPem],
    ALPNProtocols: [ALPN_APP_SERVICE],
    servername: 'localhost',
  });
  await once(s, 'secureConnect');
  const header = { app: 'grafana', kind: 'http', user_cert_pem: cert.certPem, client_addr: '127.0.0.1:1' };
  s.write(JSON.stringify(header) + '\nGET /same-packet HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
  const chunks: Buffer[] = [];
  s.on('data', (d: Buffer) => chunks.push(d));
  await once(s, 'end');
  const text = Buffer.concat(chunks).toString();
  assert.ok(text.startsWith('{"ok":true}\nHTTP/1.1 200 OK'), text.slice(0, 80));
  assert.match(text, /"url":"\/same-packet"/);
  s.destroy();
});

test('by default a connection reuses its decision for a second, yet a lock refuses the next request', async () => {
  const cert = await appCert(h.pki, 'grafana', { user: 'frank' });
  const stream = await h.connect({ app: 'grafana', user_cert_pem: cert.certPem });
  const agent = agentOver(stream);
  const before = h.authorizeCalls;
  for (let i = 0; i < 5; i++) assert.equal((await request(agent, { path: `/r${i}` })).status, 200);
  assert.equal(h.authorizeCalls - before, 0, "the connection's own decision covers five quick requests");
  h.lock('lock-frank', 'lock targeting User:"frank" is in force: audit', { kind: 'user', value: 'frank' });
  const page = await request(agent, { path: '/locked' });
  assert.equal(page.status, 403);
  assert.match(page.body.toString(), /audit/);
});

test('no JWT (auth unreachable): 502 APP_UNREACHABLE, and a later request signs again', async () => {
  const cert = await appCert(h.pki, 'grafana', { user: 'gina' });
  h.signFailure = new Error('connect ECONNREFUSED auth');
  try {
    const stream = await h.connect({ app: 'grafana', user_cert_pem: cert.certPem });
    const page = await request(agentOver(stream), { path: '/' });
    assert.equal(page.status, 502);
    assert.match(page.body.toString(), /identity token could not be signed/);
  } finally {
    h.signFailure = undefined;
  }
  const again = await h.connect({ app: 'grafana', user_cert_pem: cert.certPem });
  assert.equal((await request(agentOver(again), { path: '/' })).status, 200);
  again.destroy();
});

test('a request head not finished in time gets 408 and the connection closes', async () => {
  const cert = await appCert(h.pki, 'grafana', { user: 'slow' });
  const stream = await h.connect({ app: 'grafana', user_cert_pem: cert.certPem });
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  stream.write('GET / HTTP/1.1\r\nHost: a\r\n');
  const started = Date.now();
  await once(stream, 'close');
  assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1.1 408/);
  assert.ok(Date.now() - started < 4_000);
});

async function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
