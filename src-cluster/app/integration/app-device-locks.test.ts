// Application access under device trust and locks (issue 14 items 2, 5 and 6), end to end with the
// real gateway and clients: the seed's `require-trusted-device-apps` role, verbatim, refuses a
// person on an untrusted device with HTTP 403 and the exact words (text/plain for curl, the HTML
// page for a browser's Accept) while a colleague on a swtpm-enrolled device gets the app, with
// device_trusted in the JWT; the cluster-wide device trust mode does not apply to apps; a lock
// closes a live WebSocket and the next request on the gateway gets the lock's words.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSwtpm, type Swtpm } from '../../../test-support/swtpm.ts';
import { closed, curl, CURL_STATS, curlStats, echoOnce, openWebSocket } from '../../../test-support/apps/clients.ts';
import type { EchoedRequest } from '../../../test-support/apps/header-echo.ts';
import { NGINX_INDEX_TEXT } from '../../../test-support/apps/nginx.ts';
import { APP_UNTRUSTED_DEVICE_MESSAGE, APP_UNTRUSTED_DEVICE_REMEDY } from '../../../src-shared/app-pages.ts';
import {
  appRoleYaml,
  ECHO_APP,
  SEED_TRUSTED_APPS_ROLE,
  startAppGateway,
  startAppWorld,
  TCP_APP,
  verifyAppJwt,
  WEB_APP,
  type AppGateway,
  type AppWorld,
} from './app-fixture.ts';

const CREATED = /Created a lock with name "([0-9a-f-]{36})"/;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('application access: device trust and locks', () => {
  let world: AppWorld;
  let tpm: Swtpm;
  const gateways: AppGateway[] = [];
  const tpmEnv = () => ({ GATEHOUSE_TPM_TCTI: tpm.tcti });
  const gateway = async (who: string, app: string) => {
    const g = await startAppGateway(world, who, app, tpmEnv());
    gateways.push(g);
    return g;
  };
  const setClusterMode = (mode: string) =>
    world.cluster.apply(
      `kind: cluster_auth_preference\nversion: v2\nmetadata: { name: cluster-auth-preference }\nspec:\n  type: local\n  second_factor: 'off'\n  device_trust: { mode: ${mode} }\n`,
    );
  const lock = (...args: string[]) => {
    const r = world.cluster.gatectl(['lock', ...args]);
    assert.equal(r.status, 0, r.stderr);
    const name = CREATED.exec(r.stdout)?.[1];
    assert.ok(name, r.stdout);
    return name;
  };
  const unlock = (name: string) => assert.equal(world.cluster.gatectl(['rm', `lock/${name}`]).status, 0);

  before(async () => {
    tpm = await startSwtpm();
    world = await startAppWorld({ clusterName: 'apptrust', nodeName: 'app-node' });
    world.cluster.apply(SEED_TRUSTED_APPS_ROLE);
    world.cluster.apply(appRoleYaml('apps', { '*': '*' }));
    world.addUserAndLogin('tina', ['require-trusted-device-apps']);
    world.addUserAndLogin('ugo', ['require-trusted-device-apps']);
    world.addUserAndLogin('vera', ['apps']);
    // tina's machine is enrolled (a real TPM 2.0 in swtpm) and her login re-issued as device-trusted.
    const tag = world.gateAs('tina', ['device', 'asset-tag'], '', tpmEnv()).stdout.trim();
    const added = world.cluster.gatectl(['devices', 'add', '--asset-tag', tag, '--os', 'linux', '--enroll']);
    const token = /^ {2}(\S{20,})$/m.exec(added.stdout)?.[1];
    assert.ok(token, added.stdout + added.stderr);
    const enroll = world.gateAs('tina', ['device', 'enroll', '--token-stdin'], `${token}\n`, tpmEnv());
    assert.equal(enroll.status, 0, enroll.out);
    const relogin = world.gateAs(
      'tina',
      [
        'login',
        '--proxy',
        world.cluster.proxyAddr,
        '--ca-pin',
        world.cluster.caPin,
        '--user',
        'tina',
        '--password-stdin',
      ],
      'tina-password-1\n',
      tpmEnv(),
    );
    assert.equal(relogin.status, 0, relogin.out);
    assert.match(relogin.out, /this session is device-trusted/);
  });
  after(async () => {
    for (const g of gateways) await g.stop();
    await world?.stop();
    await tpm?.stop();
  });

  test("the seed's role: an untrusted device gets 403 with the exact words, text/plain for curl and HTML for a browser", async () => {
    const g = await gateway('ugo', WEB_APP);
    const plain = await curl(['-D', '-', `${g.url}/`]);
    assert.equal(plain.status, 0, plain.stderr);
    assert.match(plain.stdout, /^HTTP\/1\.1 403 /);
    assert.match(plain.stdout, /^content-type: text\/plain; charset=utf-8\r?$/im);
    const body = plain.stdout.slice(plain.stdout.indexOf('\r\n\r\n') + 4);
    assert.match(body, new RegExp(`^${escape(APP_UNTRUSTED_DEVICE_MESSAGE)}\n`));
    assert.ok(body.includes(APP_UNTRUSTED_DEVICE_REMEDY), body);
    assert.doesNotMatch(body, new RegExp(NGINX_INDEX_TEXT));
    const html = await curl(['-D', '-', '-H', 'Accept: text/html,application/xhtml+xml,*/*;q=0.8', `${g.url}/page`]);
    assert.match(html.stdout, /^HTTP\/1\.1 403 /);
    assert.match(html.stdout, /^content-type: text\/html; charset=utf-8\r?$/im);
    assert.match(html.stdout, new RegExp(`<h1>${escape(APP_UNTRUSTED_DEVICE_MESSAGE)}</h1>`));
    // The refusal left the gateway up: it still answers, still with the refusal.
    const again = await curl(['-w', CURL_STATS, `${g.url}/`]);
    assert.equal(curlStats(again.stdout)[0]?.code, 403);
  });

  test("the seed's role: a trusted (swtpm-enrolled) device gets the app, and the JWT says device_trusted", async () => {
    const web = await gateway('tina', WEB_APP);
    const page = await curl(['-w', CURL_STATS, `${web.url}/`]);
    assert.equal(curlStats(page.stdout)[0]?.code, 200, page.stdout + page.stderr);
    assert.match(page.stdout, new RegExp(NGINX_INDEX_TEXT));
    const echo = await gateway('tina', ECHO_APP);
    const r = await curl([`${echo.url}/`]);
    const seen = JSON.parse(r.stdout) as EchoedRequest;
    const claims = await verifyAppJwt(world, seen.headers['gatehouse-jwt-assertion']![0]!, world.echo.url);
    assert.equal(claims.username, 'tina');
    assert.deepEqual(claims.roles, ['require-trusted-device-apps']);
    assert.equal(claims.device_trusted, true);
    assert.equal(typeof claims.device_id, 'string');
  });

  test('the cluster-wide device trust mode does not apply to apps: required there, a role without device_trust_mode still lets an untrusted device in', async () => {
    setClusterMode('required');
    try {
      const g = await gateway('vera', WEB_APP);
      const r = await curl(['-w', CURL_STATS, `${g.url}/`]);
      assert.equal(curlStats(r.stdout)[0]?.code, 200, r.stdout + r.stderr);
    } finally {
      setClusterMode('optional');
    }
  });

  test('a user lock closes a live WebSocket and the next request on the gateway gets the lock text', async () => {
    const g = await gateway('tina', WEB_APP);
    const ws = await openWebSocket(`ws://127.0.0.1:${g.port}/ws`);
    assert.equal(await echoOnce(ws, 'before the lock'), 'before the lock');
    const wsClosed = closed(ws);
    const t0 = Date.now();
    const name = lock('--user=tina', '--message=app cut');
    try {
      const code = await Promise.race([wsClosed, sleep(10_000).then(() => 'timeout' as const)]);
      const elapsed = Date.now() - t0;
      assert.notEqual(code, 'timeout', 'the WebSocket is still open 10 s after the lock');
      // gatectl's own start-up is most of this, as in the SSH and database lock tests.
      assert.ok(elapsed < 8000, `took ${elapsed} ms`);
      const deadline = Date.now() + 3000;
      while (world.nginx.echo.openConnections() > 0 && Date.now() < deadline) await sleep(50);
      assert.equal(world.nginx.echo.openConnections(), 0, 'the upstream WebSocket is still open');
      const next = await curl(['-w', CURL_STATS, `${g.url}/`]);
      assert.equal(curlStats(next.stdout)[0]?.code, 403, next.stdout);
      assert.match(next.stdout, /lock targeting User:"tina" is in force: app cut/);
    } finally {
      unlock(name);
      ws.terminate();
    }
  });

  test('a user lock closes a live TCP app stream (a WebSocket relayed as bytes) and the gateway prints the lock for the next one', async () => {
    const g = await gateway('tina', TCP_APP);
    const ws = await openWebSocket(`ws://127.0.0.1:${g.port}/ws`);
    assert.equal(await echoOnce(ws, 'over tcp'), 'over tcp');
    const wsClosed = closed(ws);
    const name = lock('--user=tina', '--message=tcp cut');
    try {
      const code = await Promise.race([wsClosed, sleep(10_000).then(() => 'timeout' as const)]);
      assert.notEqual(code, 'timeout', 'the TCP stream is still open 10 s after the lock');
      const next = await curl([`${g.url}/`]);
      assert.notEqual(next.status, 0, 'a locked TCP connection returned data');
      const deadline = Date.now() + 5000;
      while (!/tcp cut/.test(g.output()) && Date.now() < deadline) await sleep(50);
      assert.match(g.output(), /lock targeting User:"tina" is in force: tcp cut/);
    } finally {
      unlock(name);
      ws.terminate();
    }
  });
});
