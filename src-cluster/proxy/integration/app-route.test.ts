// The app path end to end through a real cluster (`gatehouse start` with an app service from its
// config): a TLS client with a route certificate from the cluster's user CA speaks the gateway's
// side of the protocol (ALPN gatehouse-app, the {"app"} header line) to the proxy, the proxy
// routes to the app service, the app service decides and reverse-proxies to a tiny node:http
// upstream that echoes the request's headers. The JWT the upstream gets verifies with the JWKS
// the proxy publishes (fetched with curl), and a forged assertion from the client is gone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { ALPN_APP, APP_JWT_HEADER, JWKS_PATH } from '../../../src-shared/cert-fields.ts';
import { readReply } from '../../../src-shared/ssh-route.ts';
import type { GatehouseError } from '../../../src-shared/errors.ts';
import { freePort, TestCluster } from '../../integration/harness.ts';
import { routeCert, type KeyAndCert } from '../../db/test-support/db-pki.ts';

const run = promisify(execFile);
let cluster: TestCluster;
let upstream: http.Server;
let upstreamAddr: string;
let userCa: KeyAndCert;

before(async () => {
  // Echoes what it received, so the test sees the request as the upstream did.
  upstream = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, headers: req.headers }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamAddr = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  const appServiceAddr = `127.0.0.1:${await freePort()}`;
  cluster = new TestCluster({
    extraConfig: [
      'app_service:',
      '  enabled: true',
      `  listen_addr: ${appServiceAddr}`,
      '  apps:',
      '    - name: echo',
      '      labels: {env: test}',
      `      uri: http://${upstreamAddr}/base`,
      '      rewrite: {headers: [{name: X-Env, value: it}]}',
    ].join('\n'),
    topology: 'single',
  });
  await cluster.start();
  cluster.apply(
    ['kind: role', 'version: v7', 'metadata: {name: apps}', 'spec:', '  allow:', "    app_labels: {'*': '*'}"].join(
      '\n',
    ),
  );
  cluster.addUser('alice', ['apps']);
  userCa = cluster.storedAuthority('tls_user');
});

after(async () => {
  await cluster?.destroy();
  upstream?.close();
});

/** Opens the app route as the gateway does; the reply line decides. */
async function openRoute(
  client: KeyAndCert,
  app: string,
): Promise<{ socket: tls.TLSSocket; refusal?: GatehouseError }> {
  const [host, port] = cluster.proxyAddr.split(':') as [string, string];
  const socket = tls.connect({
    host,
    port: Number(port),
    ca: [userCa.certPem, cluster.storedAuthority('tls_host').certPem],
    cert: client.certPem,
    key: client.keyPem,
    ALPNProtocols: [ALPN_APP],
    servername: 'localhost',
  });
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  socket.write(JSON.stringify({ app }) + '\n');
  try {
    await readReply(socket, 10_000);
    // readReply leaves the stream paused after the line; node:http's parser needs it flowing.
    socket.resume();
    return { socket };
  } catch (e) {
    socket.destroy();
    return { socket, refusal: e as GatehouseError };
  }
}

/** The route opens once the app service has registered the app and heartbeated (a few seconds). */
async function openWhenRoutable(client: KeyAndCert, app: string): Promise<tls.TLSSocket> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const { socket, refusal } = await openRoute(client, app);
    if (!refusal) return socket;
    if (Date.now() > deadline) throw refusal;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** One HTTP/1.1 request over the opened route. */
function request(
  socket: tls.TLSSocket,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({
      createConnection: () => socket,
      path,
      headers: { host: 'localhost:8888', ...headers },
      timeout: 15_000,
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('an HTTP app through the proxy and the app service: headers, path prefix and a JWT that verifies with the JWKS', async () => {
  const cert = await routeCert(userCa, { user: 'alice', roles: ['apps'], route: { kind: 'app', name: 'echo' } });
  const socket = await openWhenRoutable(cert, 'echo');
  const r = await request(socket, '/hello?x=1', { [APP_JWT_HEADER]: 'forged.by.client' });
  socket.destroy();
  assert.equal(r.status, 200);
  const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/base/hello?x=1');
  assert.equal(seen.headers['host'], upstreamAddr);
  assert.equal(seen.headers['x-forwarded-host'], 'localhost:8888');
  assert.equal(seen.headers['x-env'], 'it');
  const jwt = seen.headers[APP_JWT_HEADER]!;
  assert.notEqual(jwt, 'forged.by.client');

  const caFile = join(cluster.dir, 'proxy-ca.pem');
  writeFileSync(caFile, cluster.storedAuthority('tls_host').certPem);
  const jwks = async (version: string) =>
    (await run('curl', ['-sS', version, '--cacert', caFile, `https://${cluster.proxyAddr}${JWKS_PATH}`])).stdout;
  const stdout = await jwks('--http1.1');
  // Over h2 (the API route) the proxy answers the same document from the same cache.
  assert.equal(await jwks('--http2'), stdout);
  const { payload } = await jwtVerify(jwt, createLocalJWKSet(JSON.parse(stdout) as { keys: [] }), {
    audience: `http://${upstreamAddr}/base`,
  });
  assert.equal(payload['username'], 'alice');
  assert.deepEqual(payload['roles'], ['apps']);
  assert.equal(payload['device_trusted'], false);
});

test('an app that does not exist is refused by the proxy with APP_NOT_FOUND', async () => {
  const cert = await routeCert(userCa, { user: 'alice', roles: ['apps'], route: { kind: 'app', name: 'nope' } });
  const { refusal } = await openRoute(cert, 'nope');
  assert.equal(refusal?.code, 'APP_NOT_FOUND');
});
