// Who is calling: the mTLS client certificate and the source address, carried from the Node
// request into Connect's handler context. TLS accepts certificates of either X.509 CA (user or
// host); here each is classified by the CA that actually signed it, so a host certificate never
// passes as a user (requireIdentity) and a user certificate never as a service (requireHost).
import type { TLSSocket } from 'node:tls';
import type { IncomingHttpHeaders } from 'node:http2';
import { X509Certificate } from 'node:crypto';
import { createContextKey, createContextValues, type ContextValues } from '@connectrpc/connect';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { identityFromClientCert, type TlsIdentity } from '../auth/x509.ts';
import { hostIdentityFromCert, issuedByOneOf, type HostIdentity, type ServiceRole } from '../auth/host-identity.ts';
import { forwardedPeer } from './forwarded-peer.ts';

export interface Peer {
  address: string;
  /** A user (or the admin), from a certificate of the USER CA. */
  identity?: TlsIdentity;
  /** DER of the verified client certificate (set with identity or host). */
  certDer?: Buffer;
  /** A joined cluster service, from a certificate of the HOST CA. */
  host?: HostIdentity;
  refusal?: string;
}

/** The CA certificates each kind of client certificate must chain to (read per connection). */
export interface PeerCas {
  userCaPems: () => readonly string[];
  hostCaPems: () => readonly string[];
}

export const peerKey = createContextKey<Peer>({ address: 'unknown' });

type CertPeer = Omit<Peer, 'address'>;

/** What a TLS-verified client certificate proves, decided by which CA signed it. */
export function classifyClientCert(der: Buffer, cas: PeerCas): CertPeer {
  const cert = new X509Certificate(der);
  if (issuedByOneOf(cert, cas.userCaPems())) return { identity: identityFromClientCert(der), certDer: der };
  const host = hostIdentityFromCert(der, cas.hostCaPems());
  if (host) return { host, certDer: der };
  return { refusal: 'the certificate is neither a user nor a service certificate of this cluster' };
}

// One classification per TLS connection: HTTP/2 carries many calls over one socket. Keyed by
// the session's socket: the compat request's `socket` is a fresh proxy object for every stream,
// so keying by it parsed and verified the certificate again on every call (a tenth of the
// daemon's CPU under a burst of audit batches).
const classified = new WeakMap<object, Omit<Peer, 'address'>>();

function connectionOf(req: { socket: unknown; stream?: unknown }): object {
  const session = (req.stream as { session?: { socket?: object } } | undefined)?.session;
  return session?.socket ?? (req.socket as object);
}

function classifyConnection(socket: TLSSocket, cas: PeerCas): Omit<Peer, 'address'> {
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false) : undefined;
  if (!cert || !cert.raw) return {};
  if (!socket.authorized) return { refusal: String(socket.authorizationError ?? 'untrusted certificate') };
  return classifyClientCert(cert.raw, cas);
}

export function peerContext(
  req: { socket: unknown; stream?: unknown; headers?: IncomingHttpHeaders },
  cas: PeerCas,
): ContextValues {
  const socket = req.socket as TLSSocket;
  const connection = connectionOf(req);
  let found = classified.get(connection);
  if (!found) {
    found = classifyConnection(socket, cas);
    classified.set(connection, found);
  }
  const peer: Peer = { address: socket.remoteAddress ?? 'unknown', ...found };
  // Calls relayed by a joined proxy are about the end user it names (forwarded-peer.ts).
  return createContextValues().set(
    peerKey,
    forwardedPeer(peer, req.headers, (der) => classifyClientCert(der, cas)),
  );
}

export function requireIdentity(peer: Peer): TlsIdentity {
  if (peer.identity) {
    if (peer.identity.notAfter.getTime() <= Date.now()) {
      throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'your certificate has expired; run "gate login" again');
    }
    return peer.identity;
  }
  if (peer.host) {
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      `a service certificate (${peer.host.role} "${peer.host.name}") cannot make user calls`,
    );
  }
  if (peer.refusal) {
    const expired = /expired/i.test(peer.refusal);
    throw new GatehouseError(
      expired ? ErrorCode.CERT_EXPIRED : ErrorCode.CERT_INVALID,
      expired
        ? 'your certificate has expired; run "gate login" again'
        : `client certificate refused (${peer.refusal}): it was not issued by this cluster; run "gate login" again`,
    );
  }
  throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, 'this call needs a client certificate; run "gate login" first');
}

/** The calling service's host identity; refuses users, other clusters, expired certs and other roles. */
export function requireHost(peer: Peer, roles?: readonly ServiceRole[]): HostIdentity {
  const host = peer.host;
  if (!host) {
    if (peer.identity) {
      throw new GatehouseError(
        ErrorCode.ACCESS_DENIED,
        'this call is for cluster services: a user certificate cannot make it',
      );
    }
    const why = peer.refusal ? `client certificate refused (${peer.refusal})` : 'no client certificate';
    const expired = /expired/i.test(peer.refusal ?? '');
    throw new GatehouseError(
      expired ? ErrorCode.CERT_EXPIRED : ErrorCode.CERT_INVALID,
      `${why}: this call needs a host certificate of this cluster; join with a token first`,
    );
  }
  if (host.notAfter.getTime() <= Date.now()) {
    throw new GatehouseError(
      ErrorCode.CERT_EXPIRED,
      `host certificate of ${host.role} "${host.name}" has expired; join again`,
    );
  }
  if (roles && !roles.includes(host.role)) {
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      `a ${host.role} service may not make this call (allowed: ${roles.join(', ')})`,
    );
  }
  return host;
}
