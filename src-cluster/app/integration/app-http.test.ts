// Application access end to end with the real parts (issue 14 items 3-5 and 7): curl and a `ws`
// WebSocket client through the real `gate proxy app` gateway, the proxy and the app service, to a
// real nginx and a header-echo upstream. HTTP/1.1 keep-alive, chunked uploads, a large download
// (checksum) and WebSocket echo pass unchanged; the upstream sees Host / X-Forwarded-* and the
// rewrite header; a client's forged Gatehouse-Jwt-Assertion is stripped and the real one verifies
// with jose against the proxy's JWKS; app_labels deny with "access to app denied"; a TCP app is a
// byte relay and its denial is printed on the gateway's console; the audit log's request events
// are rate-limited per session.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closed, curl, CURL_STATS, curlStats, echoOnce, openWebSocket } from '../../../test-support/apps/clients.ts';
import type { EchoedRequest } from '../../../test-support/apps/header-echo.ts';
import { NGINX_INDEX_HTML, NGINX_INDEX_TEXT } from '../../../test-support/apps/nginx.ts';
import { APP_ACCESS_DENIED_MESSAGE } from '../../../src-shared/app-pages.ts';
import {
  appRoleYaml,
  auditEvents,
  ECHO_APP,
  ECHO_REWRITE,
  startAppGateway,
  startAppWorld,
  TCP_APP,
  verifyAppJwt,
  WEB_APP,
  type AppGateway,
  type AppWorld,
} from './app-fixture.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('application access: HTTP and TCP apps through gate proxy app', () => {
  let world: AppWorld;
  let scratch: string;
  const gateways: AppGateway[] = [];
  const gateway = async (who: string, app: string) => {
    const g = await startAppGateway(world, who, app);
    gateways.push(g);
    return g;
  };

  before(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'gatehouse-app-http-'));
    world = await startAppWorld({ clusterName: 'apps', nodeName: 'app-node' });
    world.cluster.apply(appRoleYaml('all-apps', { '*': '*' }));
    world.cluster.apply(appRoleYaml('dev-apps', { env: 'dev' }, { deny: { env: 'prod' } }));
    world.cluster.apply(appRoleYaml('no-prod', { '*': '*' }, { deny: { env: 'prod' } }));
    world.addUserAndLogin('alice', ['all-apps'], ['--logins=alice,ops']);
    world.addUserAndLogin('dave', ['no-prod']);
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await world?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('nginx through the gateway: the page twice over one kept-alive connection, the large file intact', async () => {
    const g = await gateway('alice', WEB_APP);
    assert.match(g.output(), new RegExp(`Proxying http://127\\.0\\.0\\.1:${g.port} → ${WEB_APP}`));
    const pages = await curl(['-w', CURL_STATS, `${g.url}/`, `${g.url}/index.html`]);
    assert.equal(pages.status, 0, pages.stderr);
    assert.equal(pages.stdout.split(NGINX_INDEX_TEXT).length, 3, pages.stdout);
    const bytes = Buffer.byteLength(NGINX_INDEX_HTML);
    assert.deepEqual(curlStats(pages.stdout), [
      { code: 200, bytes, connects: 1 },
      { code: 200, bytes, connects: 0 },
    ]);
    const file = join(scratch, 'large.bin');
    const download = await curl([
      '--fail',
      '-o',
      file,
      '-w',
      '%{size_download}',
      `${g.url}${world.nginx.largeFile.path}`,
    ]);
    assert.equal(download.status, 0, download.stderr);
    assert.equal(Number(download.stdout), world.nginx.largeFile.bytes);
    assert.equal(await sha256File(file), world.nginx.largeFile.sha256);
  });

  test('a WebSocket through the gateway to nginx /ws echoes text and binary', async () => {
    const g = await gateway('alice', WEB_APP);
    const ws = await openWebSocket(`ws://127.0.0.1:${g.port}/ws`);
    try {
      assert.equal(await echoOnce(ws, 'hello through gatehouse'), 'hello through gatehouse');
      const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 251));
      assert.deepEqual(await echoOnce(ws, binary), binary);
      assert.equal(world.nginx.echo.openConnections(), 1);
    } finally {
      ws.close();
      await closed(ws);
    }
  });

  test('a chunked upload streams to the upstream whole; Host, X-Forwarded-* and the rewrite header are set', async () => {
    const g = await gateway('alice', ECHO_APP);
    const body = Buffer.alloc(3 << 20, 'gatehouse-');
    const r = await curl(
      ['-X', 'POST', '-H', 'Transfer-Encoding: chunked', '--data-binary', '@-', `${g.url}/upload/here?x=1`],
      body,
    );
    assert.equal(r.status, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as EchoedRequest;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.url, '/upload/here?x=1');
    assert.equal(seen.bodyBytes, body.length);
    assert.equal(seen.bodySha256, createHash('sha256').update(body).digest('hex'));
    assert.deepEqual(seen.headers.host, [`127.0.0.1:${world.echo.port}`]);
    assert.deepEqual(seen.headers['x-forwarded-host'], [`127.0.0.1:${g.port}`]);
    assert.deepEqual(seen.headers['x-forwarded-proto'], ['http']);
    assert.ok(seen.headers['x-forwarded-for']?.[0], 'no X-Forwarded-For');
    assert.deepEqual(seen.headers[ECHO_REWRITE.name.toLowerCase()], [ECHO_REWRITE.value]);
  });

  test("a client's forged Gatehouse-Jwt-Assertion is stripped; the real one verifies against the proxy's JWKS", async () => {
    const g = await gateway('alice', ECHO_APP);
    const forged = 'eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6ImFkbWluIn0.';
    const r = await curl([
      '-H',
      `Gatehouse-Jwt-Assertion: ${forged}`,
      '-H',
      `gatehouse-jwt-assertion: ${forged}`,
      `${g.url}/whoami`,
    ]);
    assert.equal(r.status, 0, r.stderr);
    const seen = JSON.parse(r.stdout) as EchoedRequest;
    const assertions = seen.headers['gatehouse-jwt-assertion'] ?? [];
    assert.equal(assertions.length, 1, `expected exactly one assertion, got ${JSON.stringify(assertions)}`);
    assert.notEqual(assertions[0], forged);
    const claims = await verifyAppJwt(world, assertions[0]!, world.echo.url);
    assert.equal(claims.iss, 'apps');
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.username, 'alice');
    assert.deepEqual(claims.roles, ['all-apps']);
    assert.deepEqual((claims.traits as Record<string, string[]>).logins, ['alice', 'ops']);
    assert.equal(claims.device_trusted, false);
    assert.equal(claims.device_id, undefined);
    assert.ok(claims.exp! - claims.iat! <= 600, `lifetime ${claims.exp! - claims.iat!} s is over 10 min`);
  });

  /** Replaces dave's role no-prod so it denies `env` (the running app service sees it through its watch). */
  const denyForDave = (env: string) => world.cluster.apply(appRoleYaml('no-prod', { '*': '*' }, { deny: { env } }));

  test('app_labels deny: gate proxy app refuses an app the roles deny; a role change makes the open gateway answer 403 "access to app denied"', async () => {
    const refused = world.gateAs('dave', ['proxy', 'app', WEB_APP, '-p', '0']);
    // APP_NOT_FOUND's exit code (src-shared/errors.ts), before any port is opened: ListApps hides
    // an app the roles deny, and saying more would tell anyone which apps exist (as `gate db`).
    assert.equal(refused.status, 3, refused.out);
    assert.match(refused.out, new RegExp(`no app "${WEB_APP}" that your roles allow`));
    const g = await gateway('dave', ECHO_APP);
    const ok = await curl(['-w', CURL_STATS, `${g.url}/`]);
    assert.equal(curlStats(ok.stdout)[0]?.code, 200, ok.stdout);
    denyForDave('dev');
    try {
      // The decision is made again for every connection and request, from the service's cache.
      let r = await curl(['-w', CURL_STATS, `${g.url}/`]);
      const deadline = Date.now() + 10_000;
      while (curlStats(r.stdout)[0]?.code !== 403 && Date.now() < deadline) {
        await sleep(200);
        r = await curl(['-w', CURL_STATS, `${g.url}/`]);
      }
      assert.equal(curlStats(r.stdout)[0]?.code, 403, r.stdout);
      assert.match(
        r.stdout,
        new RegExp(`^${APP_ACCESS_DENIED_MESSAGE}: .*app "${ECHO_APP}" is denied by role "?no-prod"?\n`),
      );
    } finally {
      denyForDave('prod');
    }
  });

  test('a TCP app is a byte relay (HTTP to nginx over it); its denial closes the connection and is printed by gate proxy app', async () => {
    const g = await gateway('alice', TCP_APP);
    const r = await curl(['-w', CURL_STATS, `${g.url}/`]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(NGINX_INDEX_TEXT));
    const denied = await gateway('dave', TCP_APP);
    denyForDave('dev');
    try {
      const deadline = Date.now() + 10_000;
      let refused = await curl([`${denied.url}/`]);
      while (!denied.output().includes(APP_ACCESS_DENIED_MESSAGE) && Date.now() < deadline) {
        await sleep(200);
        refused = await curl([`${denied.url}/`]);
      }
      assert.notEqual(refused.status, 0, 'the denied TCP connection returned data');
      assert.match(
        denied.output(),
        new RegExp(`${APP_ACCESS_DENIED_MESSAGE}: .*app "${TCP_APP}" is denied by role "?no-prod"?`),
      );
    } finally {
      denyForDave('prod');
    }
  });

  test('audit: app.session.start/request/end, a burst of 200 requests logs 20 + 5/s request events and counts the rest', async () => {
    const g = await gateway('alice', ECHO_APP);
    const marker = `burst-${Date.now()}`;
    const urls = Array.from({ length: 200 }, (_, i) => `${g.url}/${marker}/${i}?token=secret`);
    const t0 = Date.now();
    const r = await curl(['-w', CURL_STATS, ...urls]);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(r.status, 0, r.stderr);
    const stats = curlStats(r.stdout);
    assert.equal(stats.length, 200);
    assert.ok(stats.every((s) => s.code === 200));
    // One session: curl kept one connection for all 200.
    assert.equal(
      stats.reduce((n, s) => n + s.connects, 0),
      1,
    );
    const mine = (e: Record<string, unknown>) => String(e.path ?? '').startsWith(`/${marker}/`);
    const deadline = Date.now() + 15_000;
    let end: Record<string, unknown> | undefined;
    let requests: Record<string, unknown>[] = [];
    while (Date.now() < deadline) {
      requests = auditEvents(world.cluster, 'app.session.request').filter(mine);
      const sessionId = requests[0]?.session_id;
      end = auditEvents(world.cluster, 'app.session.end').find((e) => sessionId && e.session_id === sessionId);
      if (end) break;
      await sleep(250);
    }
    assert.ok(end, `no app.session.end for the burst (request events: ${requests.length})`);
    // The bucket: 20 at once, then 5 per second of the burst's duration (about 25 on this machine).
    const budget = 20 + Math.ceil(5 * seconds);
    assert.ok(
      requests.length >= 20 && requests.length <= budget,
      `${requests.length} request events for 200 requests in ${seconds} s (budget ${budget})`,
    );
    for (const e of requests) {
      assert.equal(e.app, ECHO_APP);
      assert.equal(e.method, 'GET');
      assert.equal(e.status, 200);
      assert.doesNotMatch(String(e.path), /token|secret|\?/, 'the query string was logged');
    }
    // end.unlogged_requests is the session's total; each written event carries the count since the last one.
    const unloggedOnRequests = requests.reduce((n, e) => n + Number(e.unlogged_requests ?? 0), 0);
    assert.equal(end.requests, 200);
    assert.equal(requests.length + Number(end.unlogged_requests), 200);
    assert.ok(unloggedOnRequests <= Number(end.unlogged_requests));
    assert.ok(unloggedOnRequests > 0, 'no request event carried the count of those not written');
    const start = auditEvents(world.cluster, 'app.session.start').find((e) => e.session_id === end.session_id);
    assert.ok(start, 'no app.session.start for the burst session');
    assert.equal(start.user, 'alice');
    assert.equal(start.app, ECHO_APP);
    assert.equal(start.success, true);
    // Untrusted session: no device to record.
    assert.equal(start.trusted_device, undefined);
    assert.match(String(start.client_address), /^127\.0\.0\.1:\d+$/);
    const denied = auditEvents(world.cluster, 'app.session.start').find(
      (e) => e.user === 'dave' && e.app === ECHO_APP && e.success === false,
    );
    assert.ok(denied, 'no denied app.session.start for dave');
    assert.match(String(denied.reason), /access to app denied/);
    assert.equal(denied.error_code, 'ACCESS_DENIED');
  });
});
