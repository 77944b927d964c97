// The client half of one ALPN route through the proxy: TLS with the route's ALPN protocol and
// the user's certificate for that route, strict verification against the pinned proxy CA, then
// the one-line JSON routing header and the proxy's ok-or-coded-error reply. What comes back is a
// socket carrying the route's plain protocol (SSH bytes, a database's wire protocol, ...).
// Every gateway kind and the in-process SSH client dial through here.
import * as tls from 'node:tls';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { readReply } from '../../src-shared/ssh-route.ts';
import type { TlsContextCache } from '../../src-shared/tls-contexts.ts';
import type { TlsFailureExplainer } from '../core/api-errors.ts';
import type { ProxyAddress } from '../core/proxy-address.ts';
import { isTlsVerifyFailure, strictTlsOptions, unreachable } from '../core/proxy-trust.ts';
import { reusedReads } from './reused-reads.ts';

/** The proxy reads at most 4 KiB of routing header; refuse locally rather than be cut off. */
export const MAX_ROUTE_HEADER_BYTES = 4096;
export const DEFAULT_TUNNEL_TIMEOUT_MS = 15_000;

export interface TlsClientCertificate {
  certPem: string;
  keyPem: string;
  /** A route certificate's renewal time (2/3 of its life): a running gateway fetches the next one then. */
  renewAt?: Date;
  expiresAt?: Date;
}

/** Session tickets kept per gateway: one per certificate (a renewal brings a new one). */
export const MAX_TLS_SESSION_TICKETS = 4;

/**
 * The last TLS session ticket the proxy gave a gateway's tunnels, offered on the next connect:
 * a resumed handshake skips the certificate exchange and its signatures (measured: 6.1 → 3.3 ms
 * median per connection on loopback), which a browser opening six connections at once, or a
 * load test, pays on every connection. A ticket is only ever offered with the certificate it
 * was issued under, so a renewed or new login certificate starts a full handshake; the proxy
 * still sees the certificate's identity (TLS keeps it in the session).
 */
export class TlsSessionTickets {
  private readonly tickets = new Map<string, Buffer>();

  constructor(private readonly max = MAX_TLS_SESSION_TICKETS) {}

  get(key: string): Buffer | undefined {
    return this.tickets.get(key);
  }

  set(key: string, ticket: Buffer): void {
    this.tickets.delete(key);
    this.tickets.set(key, ticket);
    while (this.tickets.size > this.max) this.tickets.delete(this.tickets.keys().next().value!);
  }
}

export interface ProxyTunnelOptions {
  proxy: ProxyAddress;
  proxyCaPem: string;
  client: TlsClientCertificate;
  /** The route's ALPN protocol (src-shared/cert-fields.ts ALPN_*). */
  alpn: string;
  /** The routing header the proxy expects for this ALPN route. */
  header: Record<string, string>;
  /** Deadline for the TLS handshake and, separately, for the proxy's routing reply. */
  timeoutMs?: number;
  /** Turns a certificate verification failure into the right PROXY_UNTRUSTED message. */
  explainTls?: TlsFailureExplainer;
  /** Reuses the SecureContext of an earlier tunnel with the same CA and certificate (a gateway's). */
  contexts?: TlsContextCache;
  /** Resumes TLS sessions with tickets from earlier tunnels of the same certificate (a gateway's). */
  sessions?: TlsSessionTickets;
  /** Reads into one reused buffer that the vendored ssh2 client parses from (reused-reads.ts). */
  reuseReads?: boolean;
}

function tlsOptions(opts: ProxyTunnelOptions): tls.ConnectionOptions {
  const strict = strictTlsOptions(opts.proxy, opts.proxyCaPem, opts.client);
  if (!opts.contexts) return strict;
  // ca/cert/key live in the context; verification (rejectUnauthorized, server name) stays per connection.
  const { ca: _ca, cert: _cert, key: _key, minVersion, ...perConnection } = strict;
  return {
    ...perConnection,
    secureContext: opts.contexts.get({
      ca: [opts.proxyCaPem],
      cert: opts.client.certPem,
      key: opts.client.keyPem,
      ...(minVersion ? { minVersion } : {}),
    }),
  };
}

function connectTls(opts: ProxyTunnelOptions, timeoutMs: number): Promise<tls.TLSSocket> {
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const ticketKey = `${opts.proxy.address}\n${opts.client.certPem}`;
    const session = opts.sessions?.get(ticketKey);
    const reads = opts.reuseReads ? reusedReads() : undefined;
    const s = tls.connect({
      ...tlsOptions(opts),
      ALPNProtocols: [opts.alpn],
      ...(session ? { session } : {}),
      ...(reads ? { onread: reads.onread } : {}),
    });
    reads?.attach(s);
    // From the first byte: the header line right after the handshake must not wait for an ACK.
    s.setNoDelay(true);
    // TLS 1.3 tickets arrive after the handshake, so the listener stays for the socket's life.
    if (opts.sessions) s.on('session', (ticket: Buffer) => opts.sessions!.set(ticketKey, ticket));
    const timer = setTimeout(() => {
      s.destroy();
      reject(unreachable(opts.proxy, new Error(`no TLS handshake within ${timeoutMs} ms`)));
    }, timeoutMs);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(timer);
      s.destroy();
      if (!isTlsVerifyFailure(e)) reject(unreachable(opts.proxy, e));
      else if (opts.explainTls) opts.explainTls(opts.proxy, e).then(reject, reject);
      else
        reject(
          new GatehouseError(
            ErrorCode.PROXY_UNTRUSTED,
            `the proxy at ${opts.proxy.address} is not trusted: ${e.message}`,
          ),
        );
    });
  });
}

/** Opens the route; the returned socket is paused with any payload bytes after the reply left unread. */
export async function openProxyTunnel(opts: ProxyTunnelOptions): Promise<tls.TLSSocket> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TUNNEL_TIMEOUT_MS;
  const headerLine = JSON.stringify(opts.header) + '\n';
  if (Buffer.byteLength(headerLine) > MAX_ROUTE_HEADER_BYTES) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `the routing header is over ${MAX_ROUTE_HEADER_BYTES} bytes`);
  }
  const socket = await connectTls(opts, timeoutMs);
  if (socket.alpnProtocol !== opts.alpn) {
    socket.destroy();
    throw new GatehouseError(
      ErrorCode.PROXY_UNREACHABLE,
      `the proxy at ${opts.proxy.address} does not offer the route ${opts.alpn}`,
      { proxy: opts.proxy.address, alpn: opts.alpn },
    );
  }
  socket.setNoDelay(true);
  // Errors until the caller takes the socket over surface through readReply; keep the process alive.
  const swallow = () => {};
  socket.on('error', swallow);
  try {
    socket.write(headerLine);
    await readReply(socket, timeoutMs);
  } catch (e) {
    socket.destroy();
    throw e;
  } finally {
    socket.off('error', swallow);
  }
  return socket;
}
