// Test double of the proxy's app route (docs/app-access.md "The path"), real TLS on loopback:
// mutual TLS against a test user CA, ALPN gatehouse-app / gatehouse-tcp, the {"app"} header line,
// then either a coded refusal reply line or {"ok":true} and a byte relay to a real upstream on
// 127.0.0.1 (an HTTP server or a TCP service). It records what each connection looked like
// (ALPN, app, client certificate, whether TLS resumed a session), so gateway tests can check
// what the gateway sent without the cluster.
import * as net from 'node:net';
import type * as tls from 'node:tls';
import { readAppRouteRequest } from '../../../src-shared/app-route.ts';
import { relayBytes } from '../../../src-shared/byte-relay.ts';
import { ALPN_APP, ALPN_TCP } from '../../../src-shared/cert-fields.ts';
import { ErrorCode } from '../../../src-shared/errors.ts';
import { writeHeaderLine } from '../../../src-shared/ssh-route.ts';
import { makeCa, makeLeaf, startTlsServer, type RunningTls, type TestCert } from '../../../test-support/test-pki.ts';

export interface FakeAppRoute {
  /** Where an allowed connection is relayed. */
  upstreamPort?: number;
  /** A refusal instead: the reply line's code and message. */
  refuse?: { code: ErrorCode; message: string };
}

export interface SeenAppConnection {
  alpn: string;
  app: string;
  clientCn: string | undefined;
  resumed: boolean;
}

export interface FakeAppProxy {
  port: number;
  proxyCaPem: string;
  /** A user certificate the proxy accepts (as a route certificate would be). */
  userCert: TestCert;
  /** A certificate from another CA (the proxy refuses it). */
  strangerCert: TestCert;
  routes: Map<string, FakeAppRoute>;
  seen: SeenAppConnection[];
  close(): Promise<void>;
}

export async function startFakeAppProxy(): Promise<FakeAppProxy> {
  const proxyCa = await makeCa('fake proxy CA');
  const userCa = await makeCa('fake user CA');
  const strangerCa = await makeCa('stranger CA');
  const leaf = await makeLeaf(proxyCa, { cn: 'proxy', ips: ['127.0.0.1'] });
  const routes = new Map<string, FakeAppRoute>();
  const seen: SeenAppConnection[] = [];
  const upstreams = new Set<net.Socket>();

  async function route(s: tls.TLSSocket): Promise<void> {
    s.setNoDelay(true); // as the real proxy does: the reply line must not wait for an ACK
    const request = await readAppRouteRequest(s, 5_000).catch(() => undefined);
    if (!request) return void s.destroy();
    const cn = s.authorized ? (s.getPeerCertificate().subject?.CN as string | undefined) : undefined;
    seen.push({ alpn: String(s.alpnProtocol), app: request.app, clientCn: cn, resumed: s.isSessionReused() });
    const r = routes.get(request.app);
    if (!s.authorized || !r || r.refuse || r.upstreamPort === undefined) {
      const refuse = !s.authorized
        ? { code: ErrorCode.NOT_LOGGED_IN, message: 'client certificate refused' }
        : (r?.refuse ?? { code: ErrorCode.APP_NOT_FOUND, message: `app "${request.app}" not found` });
      writeHeaderLine(s, { ok: false, code: refuse.code, message: refuse.message });
      s.end();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: r.upstreamPort });
    upstreams.add(upstream);
    upstream.once('close', () => upstreams.delete(upstream));
    upstream.on('error', () => s.destroy());
    await new Promise((resolve) => upstream.once('connect', resolve));
    writeHeaderLine(s, { ok: true });
    relayBytes(s, upstream);
    relayBytes(upstream, s);
    s.once('close', () => upstream.destroy());
    upstream.once('close', () => s.destroy());
  }

  const server: RunningTls = await startTlsServer({
    leaf,
    alpn: [ALPN_APP, ALPN_TCP],
    ca: [userCa.certPem],
    onSocket: (s) => void route(s),
  });
  return {
    port: server.port,
    proxyCaPem: proxyCa.certPem,
    userCert: await makeLeaf(userCa, { cn: 'alice', client: true }),
    strangerCert: await makeLeaf(strangerCa, { cn: 'mallory', client: true }),
    routes,
    seen,
    close: async () => {
      for (const u of upstreams) u.destroy();
      await server.close();
    },
  };
}
