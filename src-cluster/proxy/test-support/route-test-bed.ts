// Test-only: what the proxy's route tests (db-route, app-route) share over real TLS on loopback:
// a stand-in service with a host certificate of a given role that records the forwarded header,
// answers {"ok":true} and echoes; a ProxyServer on a free port with the test PKI; and a client
// that opens a route with a header line and reports the proxy's refusal, if any.
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { readLine, readReply } from '../../../src-shared/ssh-route.ts';
import type { GatehouseError } from '../../../src-shared/errors.ts';
import type { ServiceRole } from '../../auth/host-identity.ts';
import { createMemoryLogger } from '../../log/logger.ts';
import { ProxyServer, type ProxyOptions } from '../proxy.ts';
import { hostPair, type DbTestPki, type KeyAndCert } from '../../db/test-support/db-pki.ts';

/** A TLS service of `role` speaking `alpn`: each forwarded header (plus the ALPN) is pushed to `headers`. */
export async function serviceStandIn(
  pki: DbTestPki,
  role: ServiceRole,
  alpn: string,
  headers: Record<string, unknown>[],
): Promise<{ server: tls.Server; address: string }> {
  const pair = await hostPair(pki.hostCa, role, `${role}1`);
  const server = tls.createServer({
    cert: pair.certPem,
    key: pair.keyPem,
    ca: [pki.hostCa.certPem],
    requestCert: true,
    rejectUnauthorized: true,
    ALPNProtocols: [alpn],
  });
  server.on('secureConnection', (s) => {
    s.on('error', () => {});
    void readLine(s).then((line) => {
      headers.push({ ...(JSON.parse(line) as Record<string, unknown>), alpn: s.alpnProtocol });
      s.write('{"ok":true}\n');
      s.on('data', (d: Buffer) => s.write(`echo:${d.toString()}`));
      s.resume();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** A proxy with `proxyPair` as its host identity, trusting the test PKI's user and host CAs. */
export async function startTestProxy(
  pki: DbTestPki,
  proxyPair: KeyAndCert,
  routes: Pick<ProxyOptions, 'databases' | 'apps'>,
): Promise<{ proxy: ProxyServer; port: number }> {
  const proxy = new ProxyServer({
    listenHost: '127.0.0.1',
    listenPort: 0,
    tls: { certPem: proxyPair.certPem, keyPem: proxyPair.keyPem, chainPem: [pki.hostCa.certPem] },
    userCaPems: () => [pki.userCa.certPem],
    hostCaPems: () => [pki.hostCa.certPem],
    apiHandler: (_req, res) => res.end(),
    backends: { findNode: async () => undefined },
    ...routes,
    logger: createMemoryLogger('error'),
    dialTimeoutMs: 2_000,
  });
  return { proxy, port: (await proxy.start()).port };
}

/** The proxy's host identity toward services, as the routes' hostTls() returns it. */
export function hostTlsOf(pki: DbTestPki, proxyPair: KeyAndCert) {
  return { certPem: proxyPair.certPem, keyPem: proxyPair.keyPem, caPems: [pki.hostCa.certPem] };
}

/** Opens a route with `client`'s certificate and `header`; the reply line decides. */
export async function openRoute(
  port: number,
  pki: DbTestPki,
  client: KeyAndCert,
  header: object,
  alpn: string,
): Promise<{ socket: tls.TLSSocket; refusal?: GatehouseError }> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca: [pki.hostCa.certPem],
    cert: client.certPem,
    key: client.keyPem,
    ALPNProtocols: [alpn],
  });
  await new Promise((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
  socket.write(JSON.stringify(header) + '\n');
  try {
    await readReply(socket, 5_000);
    return { socket };
  } catch (e) {
    socket.destroy();
    return { socket, refusal: e as GatehouseError };
  }
}
