// Auth's own API listener: the one place services (and, through the proxy, clients) reach auth.
// TLS with a server certificate from the host CA; a client certificate is optional per call and
// may come from the user CA (people, gatectl) or the host CA (joined services) — each handler
// decides what it needs (see peer.ts). The same guarded handler as the proxy used to serve
// in-process: body and field limits on every call, the connection limits of the proxy's port.
import * as http2 from 'node:http2';
import * as tls from 'node:tls';
import type * as net from 'node:net';
import type { Logger } from '../log/logger.ts';
import { ClusterService } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { closeWhenIdle, guardTlsListener } from '../limits/listener-guards.ts';
import { MAX_CONCURRENT_STREAMS, type ProxyConnectionLimits } from '../limits/limits.ts';
import { TLS_SERVER_SETTINGS } from '../../src-shared/tls-settings.ts';
import { listenAndLog, type ListenAddress } from '../limits/listen.ts';

/** The one long-lived call on this listener. */
const WATCH_RESOURCES_PATH = `/${ClusterService.typeName}/${ClusterService.method.watchResources.name}`;

export interface ApiListenerOptions {
  listenHost: string;
  listenPort: number;
  tls: { certPem: string; keyPem: string; chainPem: string[] };
  /** Client certificates may chain to any of these (user and host CAs). */
  clientCaPems: string[];
  handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;
  limits: ProxyConnectionLimits;
  logger: Logger;
}

export class ApiListener {
  readonly #server: http2.Http2SecureServer;
  readonly #opts: ApiListenerOptions;
  readonly #sockets = new Set<net.Socket>();

  constructor(opts: ApiListenerOptions) {
    this.#opts = opts;
    this.#server = http2.createSecureServer(
      {
        cert: [opts.tls.certPem, ...opts.tls.chainPem].join('\n'),
        key: opts.tls.keyPem,
        ca: opts.clientCaPems,
        requestCert: true,
        // Public calls (ping, login, join) come without a client certificate; handlers check `authorized`.
        rejectUnauthorized: false,
        ...TLS_SERVER_SETTINGS,
        handshakeTimeout: opts.limits.handshakeTimeoutMs,
        settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
        // HTTP/1 is not served: every client of this API speaks HTTP/2.
        allowHTTP1: false,
      },
      opts.handler,
    );
    guardTlsListener(this.#server, opts.limits, opts.logger, 'auth-api');
    this.#server.on('session', (session) => {
      closeWhenIdle(session, opts.limits.idleTimeoutMs, opts.logger);
      // A service's WatchResources stream is silent while nothing changes, and that is its
      // normal state: the per-stream idle timer set just above would cut it every idle_timeout.
      // Only a joined service gets past the handler's host-certificate check to keep one open.
      session.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
        if (headers[http2.constants.HTTP2_HEADER_PATH] === WATCH_RESOURCES_PATH) stream.setTimeout(0);
      });
    });
    this.#server.on('connection', (s: net.Socket) => {
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    this.#server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) =>
      opts.logger.warn('TLS handshake failed', { client: socket.remoteAddress, error: err.message }),
    );
  }

  start(): Promise<ListenAddress> {
    return listenAndLog(
      this.#server,
      { host: this.#opts.listenHost, port: this.#opts.listenPort },
      this.#opts.logger,
      'auth API',
    );
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const s of this.#sockets) s.destroy();
    });
  }
}
