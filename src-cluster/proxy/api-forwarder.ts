// The proxy's h2 API route when auth runs elsewhere (always, since every topology joins over the
// API): each client request is relayed as one HTTP/2 stream to auth's API listener over mTLS
// with the proxy's host certificate. Headers, status, body and trailers pass through as they
// come, both ways at once, so unary calls, the bidi device ceremonies and server streams all work
// without the proxy understanding Connect. The end user's verified client certificate and source
// address travel in FORWARDED_* headers, which auth honours only from a host certificate with
// role proxy; whatever a client sent under those names is dropped here first.
import * as http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log/logger.ts';
import type { AuthAddresses } from '../service/auth-addresses.ts';
import {
  FORWARDED_CERT_ERROR_HEADER,
  FORWARDED_CERT_HEADER,
  FORWARDED_FOR_HEADER,
  FORWARDED_HEADERS,
} from '../api/forwarded-peer.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import { TLS_CLIENT_SETTINGS } from '../../src-shared/tls-settings.ts';

/**
 * Streams one upstream connection carries before the forwarder opens another. Below auth's
 * per-connection cap (MAX_CONCURRENT_STREAMS = 100), so a busy proxy spreads over a few
 * connections instead of queueing behind the cap.
 */
export const STREAMS_PER_UPSTREAM = 90;
const CONNECT_TIMEOUT_MS = 5_000;

export interface UpstreamTls {
  caPems: string[];
  certPem: string;
  keyPem: string;
}

export interface ApiForwarderOptions {
  /** Auth's API listeners; shared with the service runtime so a failover moves both. */
  authAddresses: AuthAddresses;
  /** The proxy's current host identity (read per new connection, so renewals apply). */
  tls: () => UpstreamTls;
  log: Logger;
}

interface Upstream {
  session: http2.ClientHttp2Session;
  streams: number;
}

/** The client's certificate as the proxy's TLS layer judged it. */
function clientCertHeaders(req: http2.Http2ServerRequest): http2.OutgoingHttpHeaders {
  const socket = req.socket as unknown as TLSSocket;
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate(false) : undefined;
  const headers: http2.OutgoingHttpHeaders = { [FORWARDED_FOR_HEADER]: socket.remoteAddress ?? 'unknown' };
  if (cert?.raw) {
    if (socket.authorized) headers[FORWARDED_CERT_HEADER] = cert.raw.toString('base64');
    else headers[FORWARDED_CERT_ERROR_HEADER] = String(socket.authorizationError ?? 'untrusted certificate');
  }
  return headers;
}

function requestHeaders(req: http2.Http2ServerRequest): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name.startsWith(':') || FORWARDED_HEADERS.includes(name) || value === undefined) continue;
    out[name] = value;
  }
  return {
    ...out,
    ...clientCertHeaders(req),
    [http2.constants.HTTP2_HEADER_METHOD]: req.method,
    [http2.constants.HTTP2_HEADER_PATH]: req.url,
  };
}

function withoutPseudo(headers: http2.IncomingHttpHeaders): http2.OutgoingHttpHeaders {
  const out: http2.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers))
    if (!name.startsWith(':') && value !== undefined) out[name] = value;
  return out;
}

export class ApiForwarder {
  readonly #opts: ApiForwarderOptions;
  readonly #upstreams = new Set<Upstream>();
  #closed = false;

  constructor(opts: ApiForwarderOptions) {
    this.#opts = opts;
  }

  /** The Node request handler the proxy's h2 route calls. */
  readonly handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    let upstream: Upstream;
    try {
      upstream = this.#pick();
    } catch (e) {
      this.#unavailable(res, (e as Error).message);
      return;
    }
    const stream = upstream.session.request(requestHeaders(req));
    upstream.streams++;
    stream.once('close', () => {
      upstream.streams--;
      // A reset or an upstream failure: the client's stream ends too, without a half answer.
      if (!res.writableEnded) {
        if (!res.headersSent) this.#unavailable(res, `auth closed the call (${stream.rstCode})`);
        else res.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
    });
    stream.on('error', (e) => this.#opts.log.debug('forwarded API call failed', { path: req.url, error: e.message }));
    stream.once('response', (headers) => {
      res.writeHead(Number(headers[http2.constants.HTTP2_HEADER_STATUS] ?? 502), withoutPseudo(headers));
      // Only now: a stream that ends without an answer must become "unavailable", not an empty 200.
      stream.pipe(res);
    });
    stream.once('trailers', (trailers) => res.addTrailers(withoutPseudo(trailers)));
    req.pipe(stream);
    // The client went away: cancel the call at auth so it stops working for nobody.
    res.once('close', () => {
      if (!stream.closed) stream.close(http2.constants.NGHTTP2_CANCEL);
    });
  };

  close(): void {
    this.#closed = true;
    for (const u of this.#upstreams) u.session.close();
    this.#upstreams.clear();
  }

  #pick(): Upstream {
    if (this.#closed) throw new Error('the proxy is shutting down');
    for (const u of this.#upstreams) {
      if (!u.session.closed && !u.session.destroyed && u.streams < STREAMS_PER_UPSTREAM) return u;
    }
    return this.#connect();
  }

  #connect(): Upstream {
    const { caPems, certPem, keyPem } = this.#opts.tls();
    const authServer = this.#opts.authAddresses.current;
    const [host] = splitHostPort(authServer);
    const session = http2.connect(`https://${authServer}`, {
      ca: caPems,
      cert: certPem,
      key: keyPem,
      servername: /^[\d.]+$|:/.test(host) ? undefined : host,
      ...TLS_CLIENT_SETTINGS,
    });
    const upstream: Upstream = { session, streams: 0 };
    this.#upstreams.add(upstream);
    const forget = () => this.#upstreams.delete(upstream);
    const timer = setTimeout(
      () => session.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS} ms`)),
      CONNECT_TIMEOUT_MS,
    );
    let connected = false;
    session.once('connect', () => {
      connected = true;
      clearTimeout(timer);
    });
    session.once('close', () => {
      clearTimeout(timer);
      forget();
    });
    session.once('goaway', forget);
    session.on('error', (e) => {
      forget();
      this.#opts.log.warn('connection to auth failed', { auth_server: authServer, error: e.message });
      // A failed connect (refused, TLS, time-out) or a connection cut under live calls both say this
      // address is unhealthy: the next call opens a connection to the next auth address.
      this.#opts.authAddresses.failover(authServer, connected ? `connection lost: ${e.message}` : e.message);
    });
    // Idle upstream connections must not keep the proxy's event loop (or auth's per-source slots) busy.
    session.unref();
    return upstream;
  }

  /** A Connect-shaped "unavailable" answer, so clients say auth is unreachable rather than a bare 503. */
  #unavailable(res: http2.Http2ServerResponse, why: string): void {
    if (res.headersSent || res.writableEnded) return;
    const body = JSON.stringify({ code: 'unavailable', message: `the auth server is unreachable: ${why}` });
    res.writeHead(503, { 'content-type': 'application/json' });
    res.end(body);
  }
}
