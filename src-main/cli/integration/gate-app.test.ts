// `gate apps`, `gate app` and `gate proxy app` end to end: a real cluster with an app service
// (apps from its config), a real node:http upstream that echoes the request headers, a real TCP
// echo service, the real `gate` binary and the real curl. Proves what a person sees: `gate apps
// ls` lists what the roles allow, `gate app login` stores the route certificate and `gate app
// config` names its files, curl through `gate proxy app` reaches the upstream with the JWT
// assertion (a forged one stripped), a route the roles refuse for want of a trusted device shows
// the 403 text (curl) and HTML (browser) while the gateway keeps serving, a refused TCP app is
// closed with the reason on the gateway's console, and an unknown app exits 3.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { decodeJwt } from 'jose';
import { APP_UNTRUSTED_DEVICE_MESSAGE } from '../../../src-shared/app-pages.ts';
import { ClusterProcess, freePort, stopChild } from '../../../test-support/cluster-process.ts';
import { until } from '../../../test-support/until.ts';

/** curl, as a person runs it: status line and body, never retrying. */
function curl(url: string, headers: string[] = []): Promise<{ status: number; body: string; out: string }> {
  const args = ['-sS', '--max-time', '20', '-w', '\n%{http_code}', ...headers.flatMap((h) => ['-H', h]), url];
  return new Promise((resolve) => {
    const child = spawn('curl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.once('close', () => {
      const cut = out.lastIndexOf('\n');
      resolve({ status: Number(out.slice(cut + 1)), body: out.slice(0, cut), out });
    });
  });
}

/** `gate proxy app NAME -p 0` until stopped; resolves with the port of its "Proxying" line. */
function startProxyApp(
  cluster: ClusterProcess,
  name: string,
): Promise<{ child: ChildProcess; port: number; stdout: () => string; stderr: () => string }> {
  const child = spawn(process.execPath, cluster.gateArgv(['proxy', 'app', name, '-p', '0']), {
    env: { ...process.env, GATEHOUSE_HOME: cluster.home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no Proxying line in time; stderr:\n${err}`)), 20_000);
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /^Proxying (?:http:\/\/)?127\.0\.0\.1:(\d+) → (\S+) \(Ctrl-C to stop\)$/m.exec(out);
      if (m && m[2] === name) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), stdout: () => out, stderr: () => err });
      }
    });
    child.once('exit', (code) => reject(new Error(`gate proxy app exited (${code}) before listening:\n${err}`)));
  });
}

describe('gate apps and gate proxy app against a real cluster', () => {
  let cluster: ClusterProcess;
  let upstream: http.Server;
  let echo: net.Server;

  before(async () => {
    upstream = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    echo = net.createServer((s) => s.pipe(s));
    for (const s of [upstream, echo]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const port = (s: net.Server) => (s.address() as net.AddressInfo).port;
    const appServiceConfig = [
      'app_service:',
      '  enabled: true',
      `  listen_addr: 127.0.0.1:${await freePort()}`,
      '  apps:',
      `    - { name: web, uri: "http://127.0.0.1:${port(upstream)}", public_addr: web.example.test, labels: { env: test } }`,
      `    - { name: secure-web, uri: "http://127.0.0.1:${port(upstream)}", labels: { env: test, tier: secure } }`,
      `    - { name: echo, uri: "tcp://127.0.0.1:${port(echo)}", labels: { env: test } }`,
      `    - { name: secure-echo, uri: "tcp://127.0.0.1:${port(echo)}", labels: { env: test, tier: secure } }`,
      `    - { name: prod-web, uri: "http://127.0.0.1:${port(upstream)}", labels: { env: prod } }`,
      '',
    ].join('\n');
    cluster = new ClusterProcess({ extraConfig: appServiceConfig });
    await cluster.start();
    cluster.apply(
      [
        'kind: role',
        'version: v7',
        'metadata: { name: apps-test }',
        'spec:',
        '  allow:',
        '    app_labels: { env: test }',
        '',
      ].join('\n'),
    );
    // The seed's shape: the strictest device_trust_mode among the roles allowing an app applies.
    cluster.apply(
      [
        'kind: role',
        'version: v7',
        'metadata: { name: secure-apps-need-trust }',
        'spec:',
        '  options: { device_trust_mode: required }',
        '  allow:',
        '    app_labels: { tier: secure }',
        '',
      ].join('\n'),
    );
    const login = cluster.addUserAndLogin('dana', 'dana-password-1', 'apps-test,secure-apps-need-trust');
    assert.equal(login.status, 0, login.stderr);
    // Apps from the config are registered asynchronously once the app service joined.
    await until(
      'the configured apps registered',
      () => (/\bsecure-echo\b/.test(cluster.gate(['apps', 'ls']).stdout) ? true : undefined),
      60_000,
    );
  });

  after(async () => {
    await cluster?.destroy();
    upstream?.closeAllConnections();
    for (const s of [upstream, echo]) await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  });

  test('gate apps ls shows the allowed apps with kind, URI, public address and labels', () => {
    const text = cluster.gate(['apps', 'ls']);
    assert.equal(text.status, 0, text.stderr);
    assert.match(text.stdout, /web\s+http\s+http:\/\/127\.0\.0\.1:\d+\s+web\.example\.test\s+env=test/);
    assert.match(text.stdout, /echo\s+tcp\s+tcp:\/\/127\.0\.0\.1:\d+/);
    assert.doesNotMatch(text.stdout, /prod-web/, 'no role allows env=prod');
    const json = JSON.parse(cluster.gate(['apps', 'ls', '--format', 'json']).stdout) as {
      name: string;
      kind: string;
    }[];
    assert.deepEqual(
      json.map((a) => [a.name, a.kind]),
      [
        ['echo', 'tcp'],
        ['secure-echo', 'tcp'],
        ['secure-web', 'http'],
        ['web', 'http'],
      ],
    );
  });

  test('gate app login stores the route certificate; config names the files and sends curl through the gateway', () => {
    const login = cluster.gate(['app', 'login', 'web']);
    assert.equal(login.status, 0, login.stderr);
    const config = cluster.gate(['app', 'config', 'web', '--format', 'json']);
    assert.equal(config.status, 0, config.stderr);
    const files = JSON.parse(config.stdout) as { cert: string; key: string; cacert: string; url: string };
    for (const f of [files.cert, files.key, files.cacert]) assert.ok(existsSync(f), f);
    assert.equal(files.url, `https://${cluster.proxyAddr}/`);
    assert.match(cluster.gate(['app', 'config', 'web']).stdout, /gate proxy app web -p 8888/);
    assert.equal(cluster.gate(['app', 'logout', 'web']).status, 0);
    assert.equal(cluster.gate(['app', 'config', 'web']).status, 3, 'nothing stored any more');
  });

  test('curl through gate proxy app reaches the upstream with the JWT; a forged assertion is stripped', async () => {
    const gw = await startProxyApp(cluster, 'web');
    try {
      const r = await curl(`http://127.0.0.1:${gw.port}/hello?x=1`, ['Gatehouse-Jwt-Assertion: forged']);
      assert.equal(r.status, 200, r.out);
      const seen = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
      assert.equal(seen.url, '/hello?x=1');
      const jwt = seen.headers['gatehouse-jwt-assertion'];
      assert.ok(jwt && jwt !== 'forged', 'the app service set its own assertion');
      const claims = decodeJwt(jwt);
      assert.equal(claims.username, 'dana');
      assert.equal(claims.device_trusted, false);
    } finally {
      await stopChild(gw.child);
    }
  });

  test('an app that needs a trusted device: curl gets the 403 text, a browser the page; the gateway keeps serving', async () => {
    const gw = await startProxyApp(cluster, 'secure-web');
    try {
      const text = await curl(`http://127.0.0.1:${gw.port}/`);
      assert.equal(text.status, 403, text.out);
      assert.match(text.body, new RegExp(`^${APP_UNTRUSTED_DEVICE_MESSAGE}$`, 'm'));
      const page = await curl(`http://127.0.0.1:${gw.port}/`, ['Accept: text/html']);
      assert.equal(page.status, 403);
      assert.match(page.body, new RegExp(`<h1>${APP_UNTRUSTED_DEVICE_MESSAGE}</h1>`));
      await until(
        'the refusal on the gateway console',
        () => (/\[DEVICE_UNTRUSTED\]/.test(gw.stderr()) ? true : undefined),
        5000,
      );
    } finally {
      await stopChild(gw.child);
    }
  });

  test('TCP apps: bytes relayed; a refused one is closed and the reason printed on the console', async () => {
    const ok = await startProxyApp(cluster, 'echo');
    try {
      const s = net.connect({ host: '127.0.0.1', port: ok.port });
      const got = new Promise<string>((resolve) => s.once('data', (d) => resolve(String(d))));
      s.write('PING\r\n');
      assert.equal(await got, 'PING\r\n');
      s.destroy();
    } finally {
      await stopChild(ok.child);
    }
    const no = await startProxyApp(cluster, 'secure-echo');
    try {
      const s = net.connect({ host: '127.0.0.1', port: no.port });
      let received = '';
      s.on('data', (d) => (received += d));
      s.on('error', () => {});
      await new Promise((resolve) => s.once('close', resolve));
      assert.equal(received, '');
      await until('the reason on the console', () => (gwSays(no.stderr()) ? true : undefined), 5000);
    } finally {
      await stopChild(no.child);
    }
  });

  test('an unknown app, or one the roles do not allow, exits 3 saying how to list them', () => {
    for (const name of ['nope', 'prod-web']) {
      const r = cluster.gate(['proxy', 'app', name, '-p', '0']);
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, new RegExp(`no app "${name}" that your roles allow; "gate apps ls"`));
    }
  });
});

function gwSays(stderr: string): boolean {
  return stderr.includes(`gate proxy app: ${APP_UNTRUSTED_DEVICE_MESSAGE} [DEVICE_UNTRUSTED]`);
}
