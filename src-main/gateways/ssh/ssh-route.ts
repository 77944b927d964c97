// SSH as a gateway route: ALPN gatehouse-ssh/1, the node named in the routing header. The login
// is not part of the route — it travels in the SSH handshake, where the node checks it against
// the certificate's principals.
import * as tls from 'node:tls';
import { ALPN_SSH } from '../../../src-shared/cert-fields.ts';
import type { TlsFailureExplainer } from '../../core/api-errors.ts';
import type { ProxyAddress } from '../../core/proxy-address.ts';
import { openProxyTunnel, type TlsClientCertificate } from '../proxy-tunnel.ts';
import { ProxyFailover } from '../../core/proxy-failover.ts';
import type { RouteProtocol } from '../route.ts';

export const sshRouteProtocol: RouteProtocol = {
  kind: 'ssh',
  alpn: () => ALPN_SSH,
  header: (route) => ({ node: route.name }),
};

export interface ProxyDialOptions {
  proxy: ProxyAddress;
  /** The cluster's other proxies, dialled in order when one could not be reached at all. */
  alternateProxies?: ProxyAddress[];
  proxyCaPem: string;
  client: TlsClientCertificate;
  node: string;
  timeoutMs?: number;
  /** Turns a certificate verification failure into the right PROXY_UNTRUSTED message. */
  explainTls?: TlsFailureExplainer;
  /** For the in-process ssh2 client only: it parses TLS reads from one reused buffer (reused-reads.ts). */
  reuseReads?: boolean;
  /** Which proxy answered last, kept across dials by a caller that dials repeatedly; default: a fresh one. */
  failover?: ProxyFailover;
}

/**
 * The byte stream to a node's SSH server through the proxy (paused, routing handshake done). A
 * proxy that refused the connect or never finished the TLS handshake is passed over for the next
 * one; a trust failure or a refusal from a proxy that answered is the result.
 */
export function dialNodeThroughProxy(opts: ProxyDialOptions): Promise<tls.TLSSocket> {
  const proxies = [opts.proxy, ...(opts.alternateProxies ?? [])];
  return (opts.failover ?? new ProxyFailover()).dial(proxies, (proxy) => dialOneProxy(opts, proxy));
}

function dialOneProxy(opts: ProxyDialOptions, proxy: ProxyAddress): Promise<tls.TLSSocket> {
  return openProxyTunnel({
    proxy,
    proxyCaPem: opts.proxyCaPem,
    client: opts.client,
    alpn: ALPN_SSH,
    header: sshRouteProtocol.header({ kind: 'ssh', name: opts.node }),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.explainTls ? { explainTls: opts.explainTls } : {}),
    ...(opts.reuseReads ? { reuseReads: true } : {}),
  });
}
