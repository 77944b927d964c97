// Reaching the database for an engine: the TCP connection and the TLS handshake with the options
// the db service prepared (upstream-tls.ts), each bounded by the upstream time-out, and every
// failure a DB_UNREACHABLE error that names the database and the reason in words (above all a
// server certificate that does not verify against the CA the database resource names). Engines
// call dialUpstream, speak their protocol's opening in plain (PostgreSQL's SSLRequest, MySQL's
// greeting and SSL request), then startUpstreamTls on that socket.
import * as net from 'node:net';
import * as tls from 'node:tls';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { DbUpstream } from './engine.ts';

/** Node's certificate error codes, in words a database admin recognizes. */
const CERT_ERRORS: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its server certificate is not signed by the CA the database resource trusts',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its server certificate is not signed by the CA the database resource trusts',
  SELF_SIGNED_CERT_IN_CHAIN: 'its server certificate chains to a CA the database resource does not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its server certificate is self-signed and not trusted by the database resource',
  CERT_HAS_EXPIRED: 'its server certificate has expired',
  CERT_NOT_YET_VALID: 'its server certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its server certificate does not name the server name the database resource expects',
};

function unreachable(database: string, upstream: DbUpstream, why: string): GatehouseError {
  return new GatehouseError(
    ErrorCode.DB_UNREACHABLE,
    `database "${database}" at ${upstream.host}:${upstream.port} is unreachable: ${why}`,
  );
}

/** Words for a TLS failure: the certificate problem when there is one, else the error itself. */
export function describeTlsFailure(err: NodeJS.ErrnoException): string {
  const known = err.code ? CERT_ERRORS[err.code] : undefined;
  if (known) return `${known} (${err.code}: ${err.message}); check spec.tls.ca_cert and spec.tls.server_name`;
  return `TLS handshake failed: ${err.message}`;
}

/** A plain TCP connection to the database, or DB_UNREACHABLE within the upstream time-out. */
export function dialUpstream(upstream: DbUpstream, database: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: upstream.host, port: upstream.port });
    socket.setNoDelay(true);
    const fail = (why: string) => {
      clearTimeout(timer);
      socket.destroy();
      reject(unreachable(database, upstream, why));
    };
    const timer = setTimeout(() => fail(`no answer within ${upstream.timeoutMs} ms`), upstream.timeoutMs);
    const onError = (e: NodeJS.ErrnoException) => fail(e.code ?? e.message);
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
  });
}

/**
 * TLS over `socket` (after the protocol's plain opening) with the prepared options: the client
 * certificate for the db user, the server certificate verified; DB_UNREACHABLE when it fails.
 */
export function startUpstreamTls(socket: net.Socket, upstream: DbUpstream, database: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ ...upstream.tls, socket });
    const fail = (why: string) => {
      clearTimeout(timer);
      secure.destroy();
      socket.destroy();
      reject(unreachable(database, upstream, why));
    };
    const timer = setTimeout(() => fail(`no TLS handshake within ${upstream.timeoutMs} ms`), upstream.timeoutMs);
    const onError = (e: NodeJS.ErrnoException) => fail(describeTlsFailure(e));
    const onClose = () => fail('the database closed the connection during the TLS handshake');
    secure.once('error', onError);
    socket.once('close', onClose);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.off('error', onError);
      socket.off('close', onClose);
      resolve(secure);
    });
  });
}
