// Issue 11, finding 4: connections that never finish a handshake, idle connections, and many
// connections from one address. Real in-process daemon (TLS proxy and ssh2 node on loopback);
// the time-outs are set to 1-2 s in the config so the test need not wait the production values.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import { connectApi, post, startTestDaemon } from './raw-api.ts';

type Daemon = Awaited<ReturnType<typeof startTestDaemon>>;
let short: Daemon;
let capped: Daemon;
const CAP = 5;

before(async () => {
  short = await startTestDaemon({
    proxy: ['handshake_timeout: 1s', 'idle_timeout: 2s'],
    node: ['login_grace_time: 1s'],
  });
  capped = await startTestDaemon({
    proxy: [`max_connections_per_ip: ${CAP}`],
    node: [`max_connections_per_ip: ${CAP}`],
  });
});
after(async () => {
  await short?.stop();
  await capped?.stop();
});

/** Opens a TCP connection; resolves with how long the server kept it open and what it sent. */
function holdTcp(
  port: number,
  send?: Buffer,
): { opened: Promise<net.Socket>; closed: Promise<{ ms: number; got: Buffer }> } {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const start = Date.now();
  const got: Buffer[] = [];
  socket.on('data', (d: Buffer) => got.push(d));
  const opened = new Promise<net.Socket>((resolve) =>
    socket.once('connect', () => {
      if (send) socket.write(send);
      resolve(socket);
    }),
  );
  const closed = new Promise<{ ms: number; got: Buffer }>((resolve) =>
    socket.once('close', () => resolve({ ms: Date.now() - start, got: Buffer.concat(got) })),
  );
  return { opened, closed };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref()),
  ]);
}

test('proxy: a connection that never sends a TLS ClientHello is closed after the handshake time-out', async () => {
  const { ms, got } = await within(holdTcp(short.proxy.port).closed, 5000, 'close');
  assert.ok(ms >= 900 && ms < 4000, `closed after ${ms} ms`);
  assert.equal(got.length, 0);
});

test('proxy: an idle HTTP/2 connection is closed after the idle time-out, also after a call', async () => {
  for (const call of [false, true]) {
    const s = connectApi(short.proxy.port);
    const start = Date.now();
    const closed = new Promise<number>((resolve) => s.once('close', () => resolve(Date.now() - start)));
    if (call)
      assert.equal(
        (await post(s, '/gatehouse.v1.AuthService/Ping', 'application/json', Buffer.from('{}'))).status,
        200,
      );
    const ms = await within(closed, 8000, 'idle close');
    assert.ok(ms >= 1900 && ms < 6000, `closed after ${ms} ms`);
  }
});

test('proxy: a finished TLS handshake stops the handshake timer (an SSH route outlives it)', async () => {
  const id = JSON.parse(readFileSync(short.daemon.adminIdentityPath!, 'utf8')) as {
    key_pem: string;
    tls_cert_pem: string;
  };
  const s = tls.connect({
    port: short.proxy.port,
    host: '127.0.0.1',
    rejectUnauthorized: false,
    ALPNProtocols: ['gatehouse-ssh/1'],
    key: id.key_pem,
    cert: id.tls_cert_pem,
  });
  s.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', resolve);
      s.once('close', () => reject(new Error('closed before the handshake')));
    });
    // Past the 1 s handshake time-out, well inside the routing header's own 10 s.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(s.destroyed, false, 'the proxy closed a connection whose TLS handshake had finished');
    const reply = new Promise<string>((resolve) => s.once('data', (d: Buffer) => resolve(d.toString())));
    s.write(JSON.stringify({ node: 'no-such-node' }) + '\n');
    assert.match(await within(reply, 3000, 'routing reply'), /NODE_NOT_FOUND/);
  } finally {
    s.destroy();
  }
});

test('node: a connection that never sends an SSH banner is closed after the login grace time', async () => {
  const { ms, got } = await within(holdTcp(short.node!.port).closed, 5000, 'close');
  assert.ok(ms >= 900 && ms < 4000, `closed after ${ms} ms`);
  // The node spoke first (its banner); the client never answered, and the grace time ran from accept.
  assert.match(got.toString('latin1'), /^SSH-2\.0-/);
  assert.ok(short.logs.some((l) => l.includes('no authentication in time')));
});

test('node: a connection that sends its banner but never authenticates is closed too', async () => {
  const { ms } = await within(holdTcp(short.node!.port, Buffer.from('SSH-2.0-probe\r\n')).closed, 5000, 'close');
  assert.ok(ms >= 900 && ms < 4000, `closed after ${ms} ms`);
});

function tlsConnect(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed before the TLS handshake finished')));
  });
}

test(`proxy: the per-source cap refuses connection ${CAP + 1} and admits again once one closes`, async () => {
  const open = await Promise.all(Array.from({ length: CAP }, () => tlsConnect(capped.proxy.port)));
  try {
    await assert.rejects(
      within(tlsConnect(capped.proxy.port), 3000, 'refusal'),
      /closed before the TLS handshake|ECONNRESET|socket disconnected/,
    );
    assert.ok(capped.logs.some((l) => l.includes('too many open connections') && l.includes('proxy')));
    open.pop()!.destroy();
    await new Promise((r) => setTimeout(r, 200));
    open.push(await within(tlsConnect(capped.proxy.port), 3000, 'admit after close'));
  } finally {
    for (const s of open) s.destroy();
  }
});

test(`node: the per-source cap refuses connection ${CAP + 1} before the SSH banner`, async () => {
  const held = Array.from({ length: CAP }, () => holdTcp(capped.node!.port));
  const sockets = await Promise.all(held.map((h) => h.opened));
  try {
    // Wait until the node has accepted all of them (it sends each its banner).
    await new Promise((r) => setTimeout(r, 300));
    const { ms, got } = await within(holdTcp(capped.node!.port).closed, 3000, 'refusal');
    assert.equal(got.length, 0, 'a refused connection gets no banner');
    assert.ok(ms < 1000, `refused after ${ms} ms`);
    sockets.pop()!.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const again = holdTcp(capped.node!.port);
    sockets.push(await again.opened);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(sockets[sockets.length - 1]!.destroyed, false, 'admitted once a slot was free');
  } finally {
    for (const s of sockets) s.destroy();
  }
});
