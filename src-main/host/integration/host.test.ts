// The browser host end to end against a real cluster (a `gatehouse start` child process): the
// WebSocket door (token, Origin), the IPC flow a user goes through (add cluster, log in, list
// servers, open a shell, type, resize, close), refusals, and the static file server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { ClusterProcess } from '../../../test-support/cluster-process.ts';
import { composeServices, type AppServices } from '../../app/compose.ts';
import { consoleLogger } from '../../app/logger.ts';
import type { ClusterSummary, ServerSummary, SessionInfo } from '../../ipc/contract.ts';
import { createIpcDispatcher } from '../../ipc/dispatcher.ts';
import { startBrowserHost, type BrowserHost } from '../browser-host.ts';
import { connectRaw, IpcClient } from './ipc-client.ts';

const LOGIN = userInfo().username;
const PASSWORD = 'correct horse battery 9';
/** A login the role allows but no OS account has: the node refuses the session. */
const GHOST = 'gh-no-such-user';

function httpGet(
  port: number,
  path: string,
  opts: { host?: string; method?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: opts.host ?? `127.0.0.1:${port}` },
      },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('browser host', () => {
  const cluster = new ClusterProcess();
  const dir = mkdtempSync(join(tmpdir(), 'gh-host-'));
  const rendererDir = join(dir, 'renderer');
  let services: AppServices;
  let host: BrowserHost;
  let wsUrl: string;

  before(async () => {
    mkdirSync(join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Gatehouse</title><div id="root"></div>');
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("app");');
    writeFileSync(join(dir, 'secret.txt'), 'TOP-SECRET');
    await cluster.start();
    const add = cluster.gatectl(
      ['users', 'add', 'dana', '--roles=access', `--logins=${LOGIN},${GHOST}`, '--password-stdin'],
      PASSWORD + '\n',
    );
    assert.equal(add.status, 0, add.stderr);
    const log = consoleLogger(process.env.GATEHOUSE_TEST_DEBUG ? 'debug' : 'error');
    services = composeServices({ home: join(dir, 'home'), logger: log, host: 'browser', localUser: LOGIN });
    host = await startBrowserHost({ dispatcher: createIpcDispatcher(services), rendererDir, logger: log });
    wsUrl = `ws://127.0.0.1:${host.port}/ipc?token=${host.token}`;
  });

  after(async () => {
    await host?.close();
    await services?.close();
    await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the URL carries a fresh token and points at 127.0.0.1', () => {
    assert.match(host.url, /^http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]{43}$/);
    assert.equal(host.origin, `http://127.0.0.1:${host.port}`);
  });

  test('the WebSocket needs the token and the exact Origin', async () => {
    const base = `ws://127.0.0.1:${host.port}/ipc`;
    assert.deepEqual(await connectRaw(`${base}?token=wrong`, host.origin), { status: 403 });
    assert.deepEqual(await connectRaw(`${base}?token=${host.token}x`, host.origin), { status: 403 });
    assert.deepEqual(await connectRaw(base, host.origin), { status: 403 });
    assert.deepEqual(await connectRaw(wsUrl, 'http://evil.example'), { status: 403 });
    assert.deepEqual(await connectRaw(wsUrl, `http://localhost:${host.port}`), { status: 403 });
    assert.deepEqual(await connectRaw(wsUrl, undefined), { status: 403 });
    assert.deepEqual(await connectRaw(`ws://127.0.0.1:${host.port}/other?token=${host.token}`, host.origin), {
      status: 404,
    });
    const c = await IpcClient.connect(wsUrl, host.origin);
    const info = await c.call<{ host: string; version: string }>('app.info');
    assert.equal(info.host, 'browser');
    c.close();
  });

  test('invalid input is BAD_REQUEST; a malformed text frame closes the socket with the reason, a bad binary frame is dropped', async () => {
    const c = await IpcClient.connect(wsUrl, host.origin);
    const r = await c.invoke('clusters.add', { proxy: 'no spaces allowed' });
    assert.equal(r.ok, false);
    assert.equal(!r.ok && r.error.code, 'BAD_REQUEST');
    assert.match(!r.ok ? r.error.message : '', /proxy: /);
    const unknown = await c.invoke('debug.eval', { code: '1' });
    assert.equal(!unknown.ok && unknown.error.code, 'BAD_REQUEST');

    c.send({ type: 'invoke', id: 9, channel: 'app.info', input: {}, extra: 1 });
    await c.until('the close', () => c.closed);
    assert.equal(c.closed!.code, 1008);
    assert.match(c.closed!.reason, /^bad frame: /);

    const d = await IpcClient.connect(wsUrl, host.origin);
    d.ws.send('{not json');
    await d.until('the close', () => d.closed);
    assert.deepEqual(d.closed, { code: 1007, reason: 'a frame is not JSON' });

    // A parsed-bytes report must be a positive count (it frees room for output to flow).
    const p = await IpcClient.connect(wsUrl, host.origin);
    p.send({ type: 'term-parsed', terminalId: 't1', bytes: -65536 });
    await p.until('the close', () => p.closed);
    assert.equal(p.closed!.code, 1008);
    assert.match(p.closed!.reason, /^bad frame: bytes: /);

    // Too short for a terminal frame, and an output frame where only input may come: dropped,
    // and the connection goes on (it may carry other terminals).
    const e = await IpcClient.connect(wsUrl, host.origin);
    e.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    e.ws.send(Buffer.from([1, 0, 0, 0, 1, 0x41]), { binary: true });
    assert.equal((await e.call<{ host: string }>('app.info')).host, 'browser');
    assert.equal(e.closed, undefined);
    e.close();

    // The host is still fine.
    const f = await IpcClient.connect(wsUrl, host.origin);
    assert.equal((await f.call<{ host: string }>('app.info')).host, 'browser');
    f.close();
  });

  test('add cluster, log in, list servers, use a shell, close it, log out', async () => {
    const c = await IpcClient.connect(wsUrl, host.origin);
    const added = await c.call<ClusterSummary>('clusters.add', { proxy: cluster.proxyAddr });
    assert.equal(added.proxy, cluster.proxyAddr);
    assert.equal(added.clusterName, 'it');
    assert.equal(added.secondFactor, 'off');
    assert.equal(added.current, true);
    assert.equal(added.session, undefined);
    // The pinned CA is the cluster's TLS host CA, as its administrator sees it.
    const status = cluster.gatectl(['status']);
    assert.equal(status.status, 0, status.stderr);
    const tlsHost = /^\s+tls_host\s+(SHA256:[0-9a-f]{64})$/m.exec(status.stdout)?.[1];
    assert.ok(tlsHost, status.stdout);
    assert.equal(added.caFingerprint, tlsHost);

    const wrong = await c.invoke('auth.login', { proxy: cluster.proxyAddr, user: 'dana', password: 'nope-nope' });
    assert.equal(!wrong.ok && wrong.error.code, 'BAD_CREDENTIALS');
    const session = await c.call<SessionInfo>('auth.login', {
      proxy: cluster.proxyAddr,
      user: 'dana',
      password: PASSWORD,
    });
    assert.equal(session.user, 'dana');
    assert.equal(session.expired, false);
    assert.deepEqual([...session.logins].sort(), [GHOST, LOGIN].sort());
    const [listed] = await c.call<ClusterSummary[]>('clusters.list');
    assert.equal(listed!.session?.user, 'dana');

    const servers = await c.call<ServerSummary[]>('resources.listServers', { proxy: cluster.proxyAddr });
    assert.deepEqual(
      servers.map((s) => s.name),
      ['node1'],
    );
    assert.equal(servers[0]!.logins[0], LOGIN, 'the local OS user is offered first');

    const open = { proxy: cluster.proxyAddr, node: 'node1', login: LOGIN, cols: 80, rows: 24 };
    const { terminalId } = await c.call<{ terminalId: string }>('terminals.open', open);
    assert.match(terminalId, /^t\d+$/);
    c.send({ type: 'term-attach', terminalId });
    c.type(terminalId, 'echo hello-$((100+23))\r');
    await c.until('the echo output', () => c.output.get(terminalId)?.includes('hello-123'));
    await c.call('terminals.resize', { terminalId, cols: 100, rows: 40 });
    c.type(terminalId, 'stty size\r');
    await c.until('the new size', () => /\b40 100\b/.test(c.output.get(terminalId) ?? ''));

    // Output while no stream is attached is kept for the next attach.
    c.type(terminalId, 'sleep 0.3; echo buffered-$((1+1))\r');
    c.send({ type: 'term-detach', terminalId });
    const before = c.output.get(terminalId)!.length;
    await new Promise((r) => setTimeout(r, 1_500));
    assert.doesNotMatch(c.output.get(terminalId)!.slice(before), /buffered-2/);
    c.send({ type: 'term-attach', terminalId });
    await c.until('the buffered output', () => c.output.get(terminalId)!.slice(before).includes('buffered-2'));

    assert.equal(await c.call('terminals.close', { terminalId }), null);
    const exit = await c.until('the exit event', () => c.exitOf(terminalId));
    assert.equal(exit.exitCode, null);
    assert.equal(exit.error, undefined);
    const again = await c.invoke('terminals.resize', { terminalId, cols: 80, rows: 24 });
    assert.equal(!again.ok && again.error.code, 'NOT_FOUND');

    // A shell that exits reports its status.
    const second = await c.call<{ terminalId: string }>('terminals.open', open);
    assert.notEqual(second.terminalId, terminalId);
    c.send({ type: 'term-attach', terminalId: second.terminalId });
    c.type(second.terminalId, 'exit 7\r');
    const exited = await c.until('exit 7', () => c.exitOf(second.terminalId));
    assert.equal(exited.exitCode, 7);

    // The node refuses a login it has no account for: the terminal ends with ACCESS_DENIED.
    const denied = await c.call<{ terminalId: string }>('terminals.open', { ...open, login: GHOST });
    const refusal = await c.until('the refusal', () => c.exitOf(denied.terminalId));
    const error = refusal.error as { code: string; message: string };
    assert.equal(error.code, 'ACCESS_DENIED');
    assert.match(error.message, /^ssh: rejected: administratively prohibited \(.+\)$/);
    await c.call('terminals.close', { terminalId: denied.terminalId });

    // Logging out ends the cluster's terminals and its session.
    const third = await c.call<{ terminalId: string }>('terminals.open', open);
    c.send({ type: 'term-attach', terminalId: third.terminalId });
    c.type(third.terminalId, 'echo ready-$((2+2))\r');
    await c.until('the third shell', () => c.output.get(third.terminalId)?.includes('ready-4'));
    assert.equal(await c.call('auth.logout', { proxy: cluster.proxyAddr }), null);
    await c.until('the third exit', () => c.exitOf(third.terminalId));
    const [out] = await c.call<ClusterSummary[]>('clusters.list');
    assert.equal(out!.session, undefined);
    const ls = await c.invoke('resources.listServers', { proxy: cluster.proxyAddr });
    assert.equal(!ls.ok && ls.error.code, 'NOT_LOGGED_IN');

    assert.equal(await c.call('clusters.remove', { proxy: cluster.proxyAddr }), null);
    assert.deepEqual(await c.call('clusters.list'), []);
    c.close();
  });

  test('attaching to a terminal the host does not have reports it as ended', async () => {
    const c = await IpcClient.connect(wsUrl, host.origin);
    c.send({ type: 'term-attach', terminalId: 't999' });
    const exit = await c.until('the exit', () => c.exitOf('t999'));
    assert.equal((exit.error as { code: string }).code, 'NOT_FOUND');
    c.close();
  });

  test('static files: the renderer with the CSP, SPA fallback, nothing outside the directory', async () => {
    const index = await httpGet(host.port, '/');
    assert.equal(index.status, 200);
    assert.match(index.body, /<title>Gatehouse<\/title>/);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    // The Electron app's CSP (one definition, app/renderer-files.ts) with this host's WebSocket.
    assert.equal(
      index.headers['content-security-policy'],
      `default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; ` +
        `font-src 'self' data:; connect-src 'self' ws://127.0.0.1:${host.port}; object-src 'none'; ` +
        `base-uri 'none'; form-action 'none'; frame-ancestors 'none'; frame-src 'none'; worker-src 'none'`,
    );
    assert.equal(index.headers['x-content-type-options'], 'nosniff');
    assert.equal(index.headers['referrer-policy'], 'no-referrer');

    const js = await httpGet(host.port, '/assets/app.js');
    assert.equal(js.status, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.ok(js.headers['content-security-policy']);
    assert.equal(js.body, 'console.log("app");');

    const route = await httpGet(host.port, '/servers/node1');
    assert.equal(route.status, 200);
    assert.match(route.body, /<title>Gatehouse/);
    assert.equal((await httpGet(host.port, '/assets/missing.js')).status, 404);

    for (const path of [
      '/../secret.txt',
      '/../package.json',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/assets%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/.%2e/.%2e/package.json',
    ]) {
      const r = await httpGet(host.port, path);
      assert.doesNotMatch(r.body, /TOP-SECRET|"name": "gatehouse"/, path);
      assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    }
    const foreignHost = await httpGet(host.port, '/', { host: `evil.example:${host.port}` });
    assert.equal(foreignHost.status, 403);
    assert.equal((await httpGet(host.port, '/', { method: 'POST' })).status, 405);
  });

  test('close() disconnects browser tabs', async () => {
    // Last test: the host goes away.
    const c = await IpcClient.connect(wsUrl, host.origin);
    await host.close();
    await c.until('the close', () => c.closed);
    assert.equal(c.closed!.code, 1001);
    await assert.rejects(connectRaw(wsUrl, host.origin));
    assert.ok(!(c.ws.readyState === WebSocket.OPEN));
  });
});
