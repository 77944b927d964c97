// Who is calling: the mTLS client certificate (already verified by TLS against the user CA)
// and the source address, carried from the Node request into Connect's handler context.
import type { TLSSocket } from 'node:tls';
import { createContextKey, createContextValues, type ContextValues } from '@connectrpc/connect';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { identityFromClientCert, type TlsIdentity } from '../auth/x509.ts';

export interface Peer {
  address: string;
  identity?: TlsIdentity;
  /** DER of the verified client certificate (set with identity). */
  certDer?: Buffer;
  refusal?: string;
}

export const peerKey = createContextKey<Peer>({ address: 'unknown' });

export function peerContext(req: { socket: unknown }): ContextValues {
  const socket = req.socket as TLSSocket;
  const peer: Peer = { address: socket.remoteAddress ?? 'unknown' };
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false) : undefined;
  if (cert && cert.raw) {
    if (socket.authorized) {
      peer.identity = identityFromClientCert(cert.raw);
      peer.certDer = cert.raw;
    } else peer.refusal = String(socket.authorizationError ?? 'untrusted certificate');
  }
  return createContextValues().set(peerKey, peer);
}

export function requireIdentity(peer: Peer): TlsIdentity {
  if (peer.identity) {
    if (peer.identity.notAfter.getTime() <= Date.now()) {
      throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'your certificate has expired; run "gate login" again');
    }
    return peer.identity;
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
