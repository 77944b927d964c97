// How spec.uri and a client's headers become the upstream request (docs/app-access.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientIpOf, clientResponseHeaders, upstreamPlanOf, upstreamRequestHeaders } from './upstream-plan.ts';

test('spec.uri taken apart: scheme, host, port, prefix, SNI, verification', () => {
  const p = upstreamPlanOf({ name: 'a', labels: {}, uri: 'https://grafana.internal:8443/g/' });
  assert.deepEqual(
    { ...p, rewriteNames: [...p.rewriteNames] },
    {
      secure: true,
      host: 'grafana.internal',
      port: 8443,
      hostHeader: 'grafana.internal:8443',
      pathPrefix: '/g',
      rewrite: [],
      rewriteNames: [],
      rejectUnauthorized: true,
      servername: 'grafana.internal',
    },
  );
  const v6 = upstreamPlanOf({ name: 'b', labels: {}, uri: 'http://[::1]:81', insecure_skip_verify: true });
  assert.equal(v6.host, '::1');
  assert.equal(v6.hostHeader, '[::1]:81');
  assert.equal(v6.pathPrefix, '');
  assert.throws(() => upstreamPlanOf({ name: 'c', labels: {}, uri: 'ftp://x' }), /not an HTTP app/);
});

test('client_addr to an IP', () => {
  assert.equal(clientIpOf('10.0.0.1:5000'), '10.0.0.1');
  assert.equal(clientIpOf('[::1]:5000'), '::1');
  assert.equal(clientIpOf('::ffff:127.0.0.1:5000'), '::ffff:127.0.0.1');
});

test('request headers: forged JWT in any case dropped, Upgrade kept for WebSocket, rewrite replaces', () => {
  const plan = upstreamPlanOf({
    name: 'a',
    labels: {},
    uri: 'http://127.0.0.1:3000',
    rewrite: { headers: [{ name: 'X-Env', value: 'prod' }] },
  });
  const raw = [
    'host',
    'localhost:9000',
    'GATEHOUSE-JWT-ASSERTION',
    'forged',
    'x-env',
    'dev',
    'Connection',
    'Upgrade',
    'Upgrade',
    'websocket',
    'Sec-WebSocket-Key',
    'k',
    'Content-Length',
    '0',
  ];
  const out = upstreamRequestHeaders(raw, plan, '10.0.0.1', 'JWT');
  assert.equal(out.upgrade, 'websocket');
  assert.equal(out.hasBody, false);
  assert.deepEqual(out.headers, [
    'Host',
    '127.0.0.1:3000',
    'Sec-WebSocket-Key',
    'k',
    'Content-Length',
    '0',
    'Connection',
    'Upgrade',
    'Upgrade',
    'websocket',
    'X-Forwarded-For',
    '10.0.0.1',
    'X-Forwarded-Host',
    'localhost:9000',
    'X-Forwarded-Proto',
    'http',
    'X-Env',
    'prod',
    'Gatehouse-Jwt-Assertion',
    'JWT',
  ]);
  assert.equal(upstreamRequestHeaders(['Transfer-Encoding', 'chunked'], plan, '1.1.1.1', 'j').hasBody, true);
});

test('response headers: hop-by-hop and Connection-listed dropped', () => {
  assert.deepEqual(
    clientResponseHeaders([
      'Connection',
      'x-a',
      'X-A',
      '1',
      'Keep-Alive',
      't',
      'Transfer-Encoding',
      'chunked',
      'X-B',
      '2',
    ]),
    ['X-B', '2'],
  );
});
