// Local gateways against a real TLS "proxy" on loopback that speaks an ALPN route (mutual TLS
// with a user CA, the one-line routing header, a coded refusal) in front of a real TCP service.
// Proves: bytes flow both ways through the 127.0.0.1 listener, a slow service pauses the local
// client instead of filling memory, close() ends live connections on both sides, and a refused
// route reaches the caller with the proxy's code.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { relayBytes } from '../../../src-shared/byte-relay.ts';
import { ALPN_SSH } from '../../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { readHeaderLine, writeHeaderLine } from '../../../src-shared/ssh-route.ts';
import { parseProxyAddress } from '../../core/proxy-address.ts';
import { makeCa, makeLeaf, startTlsServer, type RunningTls } from '../../../test-support/test-pki.ts';
import { LocalGateway } from '../gateway.ts';
import { builtinRouteProtocols, GatewayService, proxyRouteDialer, type RouteAccess } from '../gateway-service.ts';
import type { GatewayRoute } from '../route.ts';

const REFUSED_NODE = 'forbidden';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A TCP service behind the proxy; each test sets what it does with a connection. */
let onService: (s: net.Socket) => void = (s) => s.end();
const serviceSockets = new Set<net.Socket>();

function connectLocal(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
    s.once('error', reject);
  });
}

function readUntil(s: net.Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    const onData = (c: Buffer) => {
      chunks.push(c);
      n += c.length;
      if (n >= bytes) {
        s.off('data', onData);
        resolve(Buffer.concat(chunks));
      }
    };
    s.on('data', onData);
    s.once('close', () => (n < bytes ? reject(new Error(`closed after ${n} of ${bytes} bytes`)) : undefined));
  });
}

const closed = (s: net.Socket) =>
  new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

describe('local gateway through an ALPN route', () => {
  let service: net.Server;
  let proxy: RunningTls;
  let access: RouteAccess;
  let routedAs: string[] = [];
  const gateways = new GatewayService({ protocols: builtinRouteProtocols() });
  const route: GatewayRoute = { kind: 'ssh', name: 'web1' };

  before(async () => {
    service = net.createServer((s) => {
      serviceSockets.add(s);
      s.once('close', () => serviceSockets.delete(s));
      s.on('error', () => {});
      onService(s);
    });
    await new Promise<void>((r) => service.listen(0, '127.0.0.1', () => r()));
    const servicePort = (service.address() as net.AddressInfo).port;

    const proxyCa = await makeCa('proxy CA');
    const userCa = await makeCa('user CA');
    const proxyLeaf = await makeLeaf(proxyCa, { cn: 'proxy', ips: ['127.0.0.1'] });
    const userCert = await makeLeaf(userCa, { cn: 'alice', client: true });
    proxy = await startTlsServer({
      leaf: proxyLeaf,
      alpn: [ALPN_SSH],
      ca: [userCa.certPem],
      onSocket: (s: tls.TLSSocket) => void routeLikeTheProxy(s, servicePort),
    });
    access = {
      proxy: parseProxyAddress(`127.0.0.1:${proxy.port}`),
      proxyCaPem: proxyCa.certPem,
      certificateFor: async () => userCert,
      timeoutMs: 5000,
    };
  });

  after(async () => {
    await gateways.closeAll();
    await proxy.close();
    for (const s of serviceSockets) s.destroy();
    await new Promise<void>((r) => service.close(() => r()));
  });

  /** What the real proxy does on its SSH route: client cert, header, coded refusal or relay. */
  async function routeLikeTheProxy(s: tls.TLSSocket, servicePort: number): Promise<void> {
    const request = await readHeaderLine(s);
    routedAs.push(`${s.alpnProtocol}:${request.node}:${s.authorized ? 'cert' : 'no-cert'}`);
    if (!s.authorized || request.node === REFUSED_NODE) {
      writeHeaderLine(s, {
        ok: false,
        code: ErrorCode.ACCESS_DENIED,
        message: `access to node "${request.node}" denied`,
      });
      s.end();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: servicePort });
    upstream.on('error', () => s.destroy());
    await new Promise((r) => upstream.once('connect', r));
    writeHeaderLine(s, { ok: true });
    relayBytes(s, upstream);
    relayBytes(upstream, s);
    s.once('close', () => upstream.destroy());
    upstream.once('close', () => s.destroy());
  }

  test('bytes flow both ways through 127.0.0.1, routed with the ALPN, header and client certificate', async () => {
    routedAs = [];
    onService = (s) => {
      s.write('hello from the service\n');
      s.pipe(s); // echo
    };
    const info = await gateways.create({ route, access: () => access });
    assert.equal(info.localAddress, '127.0.0.1');
    assert.ok(info.localPort > 0);
    const payload = randomBytes(4 << 20);
    const local = await connectLocal(info.localPort);
    const greeting = 'hello from the service\n';
    const received = readUntil(local, greeting.length + payload.length);
    local.write(payload);
    const got = await received;
    assert.equal(got.subarray(0, greeting.length).toString(), greeting);
    assert.equal(sha(got.subarray(greeting.length)), sha(payload), 'the echo is the payload, byte for byte');
    assert.deepEqual(routedAs, [`${ALPN_SSH}:web1:cert`]);
    assert.equal(gateways.list().find((g) => g.id === info.id)?.connections, 1);
    local.destroy();
    await gateways.close(info.id);
  });

  test('a service that stops reading pauses the local client; nothing is lost when it reads again', async () => {
    let serviceSide: net.Socket | undefined;
    const serviceConnected = new Promise<net.Socket>((resolve) => {
      onService = (s) => {
        s.pause(); // a slow consumer
        serviceSide = s;
        resolve(s);
      };
    });
    const queueLimit = 64 * 1024;
    const gateway = new LocalGateway({
      id: 'bp',
      route,
      dial: proxyRouteDialer(builtinRouteProtocols(), () => access),
      relayQueueLimit: queueLimit,
    });
    const { localPort } = await gateway.start();
    const local = await connectLocal(localPort);
    await serviceConnected;

    // Write until the local socket stays full for a while: the gateway must stop reading.
    const total = 256 << 20;
    const chunk = randomBytes(1 << 20);
    let written = 0;
    let stalled = false;
    while (written < total && !stalled) {
      const more = local.write(chunk);
      written += chunk.length;
      if (!more) {
        stalled = await Promise.race([
          new Promise<boolean>((r) => local.once('drain', () => r(false))),
          sleep(1000).then(() => true),
        ]);
      }
    }
    assert.ok(stalled, `the writer never stalled: ${written >> 20} MiB accepted while the service read nothing`);
    // Kernel socket buffers on three loopback hops hold some MiB; the gateway itself holds ~64 KiB.
    assert.ok(written < 64 << 20, `${written >> 20} MiB accepted before the writer stalled`);

    let seen = 0;
    serviceSide!.on('data', (c: Buffer) => (seen += c.length));
    serviceSide!.resume();
    const deadline = Date.now() + 20_000;
    while (seen < written - local.writableLength && Date.now() < deadline) await sleep(20);
    local.end();
    await new Promise<void>((r) => serviceSide!.once('end', () => r()));
    assert.equal(seen, written, 'every byte accepted from the local client reached the service');
    await gateway.close();
  });

  test('close() stops listening and ends live connections on both sides', async () => {
    let serviceSide: net.Socket | undefined;
    onService = (s) => {
      serviceSide = s;
      s.write('ready\n');
    };
    const info = await gateways.create({ route, access: () => access });
    const local = await connectLocal(info.localPort);
    await readUntil(local, 'ready\n'.length);
    assert.ok(serviceSide, 'the service saw the connection');
    await gateways.close(info.id);
    await closed(local);
    await closed(serviceSide);
    assert.equal(gateways.list().length, 0);
    await assert.rejects(connectLocal(info.localPort), /ECONNREFUSED/);
    await assert.rejects(
      gateways.close(info.id),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.NOT_FOUND,
    );
  });

  test("a refused route closes the local connection and surfaces the proxy's code", async () => {
    const info = await gateways.create({ route: { kind: 'ssh', name: REFUSED_NODE }, access: () => access });
    const refusal = new Promise<GatehouseError>((resolve) => gateways.get(info.id).onRefused(resolve));
    const local = await connectLocal(info.localPort);
    const data: Buffer[] = [];
    local.on('data', (c: Buffer) => data.push(c));
    const err = await refusal;
    await closed(local);
    assert.equal(err.code, ErrorCode.ACCESS_DENIED);
    assert.match(err.message, /access to node "forbidden" denied/);
    assert.equal(Buffer.concat(data).length, 0, 'the local client gets no bytes, only the close');
    const { at, ...refusalSeen } = gateways.list().find((g) => g.id === info.id)?.lastRefusal ?? {};
    assert.deepEqual(refusalSeen, { code: ErrorCode.ACCESS_DENIED, message: 'access to node "forbidden" denied' });
    assert.ok(Date.now() - Date.parse(at!) < 60_000, 'the refusal says when it happened');
    await gateways.close(info.id);
  });

  test('an expired login, an untrusted proxy, a kind without a route and a taken port each have their code', async () => {
    const expired = await gateways.create({
      route,
      access: () => {
        throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'your login expired');
      },
    });
    const expiredRefusal = new Promise<GatehouseError>((r) => gateways.get(expired.id).onRefused(r));
    await connectLocal(expired.localPort);
    assert.equal((await expiredRefusal).code, ErrorCode.CERT_EXPIRED);

    const otherCa = await makeCa('some other CA');
    const untrusted = await gateways.create({ route, access: () => ({ ...access, proxyCaPem: otherCa.certPem }) });
    const untrustedRefusal = new Promise<GatehouseError>((r) => gateways.get(untrusted.id).onRefused(r));
    await connectLocal(untrusted.localPort);
    assert.equal((await untrustedRefusal).code, ErrorCode.PROXY_UNTRUSTED);

    await assert.rejects(
      gateways.create({ route: { kind: 'kube', name: 'prod' }, access: () => access }),
      (e: unknown) =>
        e instanceof GatehouseError && e.code === ErrorCode.UNKNOWN_KIND && /cannot open kube gateways/.test(e.message),
    );
    await assert.rejects(
      gateways.create({ route: { kind: 'ssh', name: 'has space' }, access: () => access }),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.BAD_REQUEST,
    );
    await assert.rejects(
      gateways.create({ route, localPort: untrusted.localPort, access: () => access }),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.CONFLICT,
    );
    await gateways.closeAll();
    assert.deepEqual(gateways.list(), []);
  });

  test('over its connection limit a gateway closes new local connections until one ends', async () => {
    onService = (s) => s.write('ready\n');
    const gateway = new LocalGateway({
      id: 'limited',
      route,
      dial: proxyRouteDialer(builtinRouteProtocols(), () => access),
      maxConnections: 1,
    });
    const { localPort } = await gateway.start();
    const first = await connectLocal(localPort);
    await readUntil(first, 'ready\n'.length);
    const second = await connectLocal(localPort);
    let secondGot = 0;
    second.on('data', (c: Buffer) => (secondGot += c.length));
    await closed(second);
    assert.equal(secondGot, 0, 'the connection over the limit is closed unrouted');
    first.destroy();
    await closed(first);
    for (let i = 0; i < 100 && gateway.info().connections > 0; i++) await sleep(10);
    const third = await connectLocal(localPort);
    await readUntil(third, 'ready\n'.length);
    third.destroy();
    await gateway.close();
  });
});
