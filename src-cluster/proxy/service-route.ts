// What the proxy's database and app routes share: after the proxy has checked the user's route
// certificate and found a live service for the resource, it dials that service with mutual TLS
// as itself (its host certificate; the peer must hold a host certificate of the service's role),
// relays bytes both ways once it has forwarded the header, and answers its own refusals with a
// reply line. Kept here once so that the two routes cannot drift apart.
import * as tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { closeWithPeer, relayBytes } from '../../src-shared/byte-relay.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import type { TlsContextCache } from '../../src-shared/tls-contexts.ts';
import { writeHeaderLine } from '../../src-shared/ssh-route.ts';
import type { DerMemo } from '../auth/der-memo.ts';
import { hostIdentityFromCert, type HostIdentity, type ServiceRole } from '../auth/host-identity.ts';
import type { TlsIdentity } from '../auth/x509.ts';
import type { Logger } from '../log/logger.ts';
import { TLS_CLIENT_SETTINGS } from '../../src-shared/tls-settings.ts';

/** A live service (db or app service) as the inventory names it. */
export interface RoutableService {
  name: string;
  /** HOST:PORT of its listener. */
  address: string;
}

/** The proxy's host identity toward services and the host CA(s) they are checked against. */
export interface ServiceHostTls {
  certPem: string;
  keyPem: string;
  caPems: string[];
}

/** What the proxy hands a route for one client connection (the db and app routes extend it). */
export interface ServiceRouteContext {
  socket: tls.TLSSocket;
  /** Throws the proxy's refusal when the client certificate is not a valid user certificate. */
  clientIdentity(socket: tls.TLSSocket): TlsIdentity;
  /** Every socket the proxy opens, so that close() ends it. */
  track(socket: tls.TLSSocket): void;
  dialTimeoutMs: number;
  /** Reuses the SecureContext of the proxy's host identity across dials (rebuilt when it changes). */
  tlsContexts?: TlsContextCache;
  /** Parsed fields of service certificates (their signature is still checked per dial). */
  hostFields?: DerMemo<HostIdentity | null>;
  log: Logger;
}

export interface ServiceDial {
  hostTls: ServiceHostTls;
  service: RoutableService;
  alpn: string;
  /** The host role the peer's certificate must carry. */
  role: ServiceRole;
  /** The refusal when the service cannot be reached (`why` says how it failed). */
  unreachable: (why: string) => GatehouseError;
}

/** Mutual TLS to a service, as the proxy; resolves once the peer proved it holds `role`'s host certificate. */
export function dialService(ctx: ServiceRouteContext, dial: ServiceDial): Promise<tls.TLSSocket> {
  const own = dial.hostTls;
  const [host, port] = splitHostPort(dial.service.address);
  return new Promise((resolve, reject) => {
    const identity = { ca: own.caPems, cert: own.certPem, key: own.keyPem };
    const s = tls.connect({
      host,
      port: Number(port),
      ...(ctx.tlsContexts ? { secureContext: ctx.tlsContexts.get(identity) } : { ...identity, ...TLS_CLIENT_SETTINGS }),
      ALPNProtocols: [dial.alpn],
      ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
    });
    s.setNoDelay(true);
    const fail = (why: string) => {
      clearTimeout(timer);
      s.destroy();
      reject(dial.unreachable(why));
    };
    const timer = setTimeout(() => fail(`no answer within ${ctx.dialTimeoutMs} ms`), ctx.dialTimeoutMs);
    const onError = (e: NodeJS.ErrnoException) => fail(e.code ?? e.message);
    s.once('error', onError);
    s.once('secureConnect', () => {
      clearTimeout(timer);
      s.off('error', onError);
      const der = s.getPeerCertificate(false).raw;
      if (hostIdentityFromCert(der, own.caPems, ctx.hostFields)?.role !== dial.role) {
        return fail(`its certificate is not ${/^[aeiou]/.test(dial.role) ? 'an' : 'a'} ${dial.role} service's`);
      }
      resolve(s);
    });
  });
}

/** The client's certificate as PEM, for the forwarded header (the service re-verifies it). */
export function peerCertPem(socket: tls.TLSSocket): string {
  return new X509Certificate(socket.getPeerCertificate(false).raw).toString();
}

/** HOST:PORT of the client as the proxy sees it (the service's audit records it). */
export function clientAddress(socket: tls.TLSSocket): string {
  return `${socket.remoteAddress ?? ''}:${socket.remotePort ?? ''}`;
}

/** From now on bytes flow unchanged both ways (the service's reply line first); each side ends with the other. */
export function relayToService(client: tls.TLSSocket, upstream: tls.TLSSocket): void {
  relayBytes(client, upstream);
  relayBytes(upstream, client);
  upstream.on('error', () => client.destroy());
  closeWithPeer(client, upstream);
  closeWithPeer(upstream, client);
}

/** The proxy's own refusal: logged with `fields`, answered with a reply line, the connection ended. */
export function refuseRoute(
  socket: tls.TLSSocket,
  error: unknown,
  log: Logger,
  what: string,
  fields: Record<string, unknown>,
): void {
  const err =
    error instanceof GatehouseError ? error : new GatehouseError(ErrorCode.INTERNAL, (error as Error).message);
  log.warn(what, { ...fields, client: socket.remoteAddress, code: err.code, reason: err.message });
  writeHeaderLine(socket, { ok: false, code: err.code, message: err.message });
  socket.end();
}
