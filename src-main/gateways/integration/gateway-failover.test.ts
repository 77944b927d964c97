// db and app gateways over a cluster's several proxies: real TLS "proxies" on loopback (mutual TLS,
// the db and app ALPN routes, the one-line routing header, ok or a coded refusal, then an echo)
// in front of nothing but themselves. Proves the SSH path's failover rules hold for every new
// connection through a local gateway: a proxy that refuses the connect or never finishes the TLS
// handshake is passed over for the next one; later connections start at the proxy that answered
// (no connect timeout paid again), and wrap around when that one goes; a proxy that answered
// with a refusal or presents a certificate the pinned CA did not sign is the answer, never a
// reason to try elsewhere; a live connection is not moved when another proxy goes away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { ALPN_TCP, ALPN_MYSQL, ALPN_POSTGRES } from '../../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { readLine, writeHeaderLine } from '../../../src-shared/ssh-route.ts';
import { makeCa, makeLeaf, startTlsServer, type RunningTls, type TestCert } from '../../../test-support/test-pki.ts';
import type { ProfileAccess } from '../../core/gatehouse-client.ts';
import { generateClientKey } from '../../core/keys.ts';
import type { Profile } from '../../core/profiles.ts';
import { parseProxyAddress } from '../../core/proxy-address.ts';
import { RouteCertificates } from '../../core/route-certs.ts';
import { silentLogger } from '../../core/types.ts';
import { builtinRouteProtocols, GatewayService, profileRouteAccess } from '../gateway-service.ts';
import { lineDbFront } from '../test-support/line-db-front.ts';
import { connectLocal, readAll, readText } from '../test-support/local-socket.ts';

const REFUSED_DB = 'refused-here';
/** Short, so the test's silent proxy is given up on quickly; the deadline itself is not asserted. */
const HANDSHAKE_DEADLINE_MS = 500;

describe('db and app gateways fail over between a cluster’s proxies', () => {
  const ports: number[] = [];
  const running = new Map<number, RunningTls>();
  /** Which proxy (by index) routed each tunnel, in order. */
  const routedBy: number[] = [];
  let leaf: TestCert;
  let foreignLeaf: TestCert;
  let userCaPem: string;
  let access: ProfileAccess;
  const gateways = new GatewayService({
    protocols: builtinRouteProtocols({ dbFronts: { postgres: lineDbFront('postgres'), mysql: lineDbFront('mysql') } }),
  });

  /** Proxy `i` answering on its fixed port (again, after stopProxy). */
  async function startProxy(i: number, presenting: TestCert = leaf): Promise<void> {
    running.set(
      i,
      await startTlsServer({
        leaf: presenting,
        port: ports[i]!,
        alpn: [ALPN_POSTGRES, ALPN_MYSQL, ALPN_TCP],
        ca: [userCaPem],
        onSocket: (s) => void routeAndEcho(i, s),
      }),
    );
  }

  async function stopProxy(i: number): Promise<void> {
    await running.get(i)?.close();
    running.delete(i);
  }

  async function routeAndEcho(i: number, s: tls.TLSSocket): Promise<void> {
    const header = JSON.parse(await readLine(s)) as Record<string, string>;
    routedBy.push(i);
    if (header.db === REFUSED_DB || !s.authorized) {
      writeHeaderLine(s, { ok: false, code: ErrorCode.ACCESS_DENIED, message: `proxy ${i} refused ${header.db}` });
      s.end();
      return;
    }
    writeHeaderLine(s, { ok: true });
    s.write(`via proxy ${i}\n`);
    s.resume();
    s.pipe(s);
  }

  before(async () => {
    const proxyCa = await makeCa('proxy CA');
    const otherCa = await makeCa('someone else');
    const userCa = await makeCa('user CA');
    userCaPem = userCa.certPem;
    leaf = await makeLeaf(proxyCa, { cn: 'proxy', ips: ['127.0.0.1'] });
    foreignLeaf = await makeLeaf(otherCa, { cn: 'proxy', ips: ['127.0.0.1'] });
    for (let i = 0; i < 3; i++) {
      const probe = net.createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
      ports.push((probe.address() as net.AddressInfo).port);
      await new Promise<void>((r) => probe.close(() => r()));
    }
    const key = generateClientKey('alice@gatehouse');
    const loginCert = await makeLeaf(userCa, { cn: 'alice', client: true, keyPem: key.privateKeyPem });
    const profile = { proxy: `127.0.0.1:${ports[0]}`, user: 'alice' } as Profile;
    const certs = new RouteCertificates({
      clock: () => new Date(),
      issue: async (_p, request) => {
        const route = await makeLeaf(userCa, { cn: `route:${request.name}`, client: true, keyPem: key.privateKeyPem });
        return { certPem: route.certPem, expiresAt: new Date(Date.now() + 3600_000) };
      },
    });
    access = {
      profile,
      proxy: parseProxyAddress(profile.proxy),
      alternateProxies: ports.slice(1).map((p) => parseProxyAddress(`127.0.0.1:${p}`)),
      proxyCaPem: proxyCa.certPem,
      credentials: { key, sshCertificate: '', tlsCertificatePem: loginCert.certPem },
      clock: () => new Date(),
      logger: silentLogger,
      timeoutMs: HANDSHAKE_DEADLINE_MS,
      explainTls: async (p) =>
        new GatehouseError(ErrorCode.PROXY_UNTRUSTED, `the proxy at ${p.address} is not trusted`),
      routeCertificate: (request) => certs.get(profile, loginCert.certPem, request),
    };
  });

  after(async () => {
    await gateways.closeAll();
    for (const i of [...running.keys()]) await stopProxy(i);
  });

  async function dbRoundTrip(port: number): Promise<string> {
    const local = await connectLocal(port);
    local.write('LOGIN alice\nping\n');
    const text = await readText(local, 'ping\n');
    local.destroy();
    return text;
  }

  test('a refused proxy is passed over; later connections stay on the one that answered, then wrap around', async () => {
    await startProxy(1);
    await startProxy(2);
    routedBy.length = 0;
    const info = await gateways.create({
      route: { kind: 'db', name: 'orders', protocol: 'postgres' },
      access: () => profileRouteAccess(access),
    });
    // Proxy 0 is down (its port refuses): the first connection goes on to proxy 1.
    assert.equal(await dbRoundTrip(info.localPort), 'via proxy 1\nLOGIN alice\nping\n');
    // Proxy 0 is back, but the gateway keeps to the proxy that answered.
    await startProxy(0);
    assert.equal(await dbRoundTrip(info.localPort), 'via proxy 1\nLOGIN alice\nping\n');
    // Proxy 1 goes: the next one in the list, and past the end, the first again.
    await stopProxy(1);
    assert.equal(await dbRoundTrip(info.localPort), 'via proxy 2\nLOGIN alice\nping\n');
    await stopProxy(2);
    assert.equal(await dbRoundTrip(info.localPort), 'via proxy 0\nLOGIN alice\nping\n');
    assert.deepEqual(routedBy, [1, 1, 2, 0], 'each connection was routed exactly once');
    assert.equal(gateways.get(info.id).info().lastRefusal, undefined);
    await gateways.close(info.id);
  });

  test('with every proxy down the client hears PROXY_UNREACHABLE in its protocol and the gateway stays up', async () => {
    for (const i of [...running.keys()]) await stopProxy(i);
    const info = await gateways.create({
      route: { kind: 'db', name: 'orders', protocol: 'postgres' },
      access: () => profileRouteAccess(access),
    });
    const local = await connectLocal(info.localPort);
    local.write('LOGIN alice\n');
    assert.match(await readAll(local), /^ERROR cannot reach the proxy at 127\.0\.0\.1:\d+: ECONNREFUSED\n$/);
    assert.equal(gateways.get(info.id).info().lastRefusal?.code, ErrorCode.PROXY_UNREACHABLE);
    await startProxy(2);
    assert.equal(await dbRoundTrip(info.localPort), 'via proxy 2\nLOGIN alice\nping\n');
    await gateways.close(info.id);
  });

  test('a proxy that accepts TCP but never finishes the handshake is given up on for the next (app route)', async () => {
    for (const i of [...running.keys()]) await stopProxy(i);
    const silent = net.createServer((s) => s.on('error', () => {})); // holds the connection, says nothing
    await new Promise<void>((r) => silent.listen(ports[0], '127.0.0.1', () => r()));
    await startProxy(1);
    routedBy.length = 0;
    try {
      const info = await gateways.create({
        route: { kind: 'app', name: 'tcp-echo', protocol: 'tcp' },
        access: () => profileRouteAccess(access),
      });
      const local = await connectLocal(info.localPort);
      local.write('hello\n');
      assert.equal(await readText(local, 'hello\n'), 'via proxy 1\nhello\n');
      // The live connection stays where it is when a proxy it does not use goes away.
      await startProxy(2);
      await stopProxy(2);
      local.write('still here\n');
      assert.match(await readText(local, 'still here\n'), /still here\n$/);
      local.destroy();
      assert.deepEqual(routedBy, [1]);
      await gateways.close(info.id);
    } finally {
      silent.close();
      for (const c of [...running.keys()]) await stopProxy(c);
    }
  });

  test("a proxy's refusal and a certificate the pin does not cover are answers, never a reason to move on", async () => {
    await startProxy(0);
    await startProxy(1);
    routedBy.length = 0;
    const refused = await gateways.create({
      route: { kind: 'db', name: REFUSED_DB, protocol: 'postgres' },
      access: () => profileRouteAccess(access),
    });
    const local = await connectLocal(refused.localPort);
    local.write('LOGIN alice\n');
    assert.equal(await readAll(local), `ERROR proxy 0 refused ${REFUSED_DB}\n`);
    assert.deepEqual(routedBy, [0], 'the refusal was not retried on proxy 1');
    await gateways.close(refused.id);

    await stopProxy(0);
    await startProxy(0, foreignLeaf);
    const info = await gateways.create({
      route: { kind: 'db', name: 'orders', protocol: 'postgres' },
      access: () => profileRouteAccess(access),
    });
    const untrusted = await connectLocal(info.localPort);
    untrusted.write('LOGIN alice\n');
    assert.equal(await readAll(untrusted), `ERROR the proxy at 127.0.0.1:${ports[0]} is not trusted\n`);
    assert.equal(gateways.get(info.id).info().lastRefusal?.code, ErrorCode.PROXY_UNTRUSTED);
    assert.deepEqual(routedBy, [0], 'nothing went to proxy 1');
    await gateways.close(info.id);
  });
});
