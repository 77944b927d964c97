// HTTP apps: after {"ok":true} the app service serves HTTP/1.1 on the gateway's stream (one
// node:http Server for the whole service, fed each stream with emit('connection')) and
// reverse-proxies every request to the app's spec.uri over keep-alive upstream connections
// (node:http/https Agents: see BENCHMARKS.md for the comparison with undici). Bodies stream both
// ways with back-pressure (pipe), nothing is buffered or parsed; an Upgrade (WebSocket) is
// forwarded and then relayed as bytes. Every request is decided again (lock, certificate
// expiry, the app and the authorizer, all from local state) and a refusal is answered with the
// denial page, after which the connection closes.
import * as http from 'node:http';
import * as https from 'node:https';
import type { Duplex, Readable, Writable } from 'node:stream';
import { DEFAULT_RELAY_QUEUE_LIMIT } from '../../src-shared/byte-relay.ts';
import { appDenialResponse } from '../../src-shared/app-pages.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Logger } from '../log/logger.ts';
import { decideApp, type AppRequestDeps } from './app-request.ts';
import type { AppSession } from './app-session.ts';
import type { AppTokenCache } from './app-token-cache.ts';
import { relayUpgrade, refuseUpgrade } from './http-upgrade.ts';
import {
  clientIpOf,
  clientResponseHeaders,
  upstreamPlanOf,
  upstreamRequestHeaders,
  type UpstreamPlan,
} from './upstream-plan.ts';
import { TLS_CLIENT_SETTINGS } from '../../src-shared/tls-settings.ts';

/** docs/app-access.md "Limits". */
export const APP_HTTP_LIMITS = {
  maxHeaderBytes: 64 << 10,
  upstreamConnectTimeoutMs: 10_000,
  idleKeepAliveMs: 120_000,
  maxUpstreamSockets: 1024,
  /** A client that opened a request must send its whole head within this. */
  headersTimeoutMs: 60_000,
} as const;

/**
 * How long one connection reuses its last full decision (the app lookup and the authorizer) for
 * later requests. Measured: AccessChecker.authorize over the service's SQLite-backed cache costs
 * 140-400 us, about what the whole upstream request costs, so re-running it for every request of
 * a busy page halved throughput. Locks are NOT subject to this (a lock notice marks the session
 * at once and every request checks that mark), nor is the certificate's expiry (checked every
 * request); what waits up to this long is a role or app change. 0: decide every request in full.
 */
export const DEFAULT_DECISION_REUSE_MS = 1_000;

export interface AppHttpProxyOptions {
  deps: AppRequestDeps;
  /** See DEFAULT_DECISION_REUSE_MS. */
  decisionReuseMs?: number;
  /** A request head must be complete within this (default APP_HTTP_LIMITS.headersTimeoutMs). */
  headersTimeoutMs?: number;
  tokens: AppTokenCache;
  log: Logger;
}

/** What one request needs upstream, decided. */
interface Granted {
  plan: UpstreamPlan;
  jwt: string;
}

export class AppHttpProxy {
  readonly #opts: AppHttpProxyOptions;
  readonly #server: http.Server;
  readonly #sessions = new WeakMap<Duplex, AppSession>();
  readonly #plans = new WeakMap<object, UpstreamPlan>();
  readonly #httpAgent: http.Agent;
  readonly #httpsAgent: https.Agent;
  readonly #decisionReuseMs: number;

  constructor(opts: AppHttpProxyOptions) {
    this.#opts = opts;
    this.#decisionReuseMs = opts.decisionReuseMs ?? DEFAULT_DECISION_REUSE_MS;
    const agentOptions = {
      keepAlive: true,
      maxSockets: APP_HTTP_LIMITS.maxUpstreamSockets,
      maxTotalSockets: APP_HTTP_LIMITS.maxUpstreamSockets,
      // Idle upstream sockets beyond this are closed: memory for a burst that passed.
      maxFreeSockets: 256,
    };
    this.#httpAgent = new http.Agent(agentOptions);
    // Outbound TLS to apps offers what the cluster's own listeners accept (src-shared/tls-settings.ts).
    this.#httpsAgent = new https.Agent({ ...agentOptions, ...TLS_CLIENT_SETTINGS });
    const headersTimeout = opts.headersTimeoutMs ?? APP_HTTP_LIMITS.headersTimeoutMs;
    this.#server = http.createServer({
      maxHeaderSize: APP_HTTP_LIMITS.maxHeaderBytes,
      keepAliveTimeout: APP_HTTP_LIMITS.idleKeepAliveMs,
      headersTimeout,
      // How often node looks for heads over time (its default, 30 s, would stretch a short limit).
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, headersTimeout / 4)),
      // Long downloads, uploads and server-sent events are normal for apps: no whole-request cap.
      requestTimeout: 0,
    });
    // The server never listens (it is fed streams), and node starts the checker that enforces
    // headersTimeout on 'listening': without this a client could hold a head open forever.
    this.#server.emit('listening');
    this.#server.on('request', (req, res) => this.#onRequest(req, res));
    this.#server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      this.#onUpgrade(req, socket, head),
    );
    this.#server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      opts.log.info('app HTTP client error', { code: err.code, error: err.message });
      // As node answers without a listener: a too-large head (431) or a late one (408) told as such.
      if (!socket.writable) return void socket.destroy();
      const status =
        err.code === 'HPE_HEADER_OVERFLOW'
          ? '431 Request Header Fields Too Large'
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? '408 Request Timeout'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    });
  }

  /** Serves HTTP/1.1 on an allowed session's stream until it closes. */
  serve(session: AppSession): void {
    this.#sessions.set(session.stream, session);
    const socket = session.stream as Duplex & { bytesRead: number; bytesWritten: number };
    session.bytesMark = { read: socket.bytesRead, written: socket.bytesWritten };
    this.#server.emit('connection', session.stream);
    // The header line was read with the stream paused; node's parser reads only a flowing stream.
    session.stream.resume();
  }

  /** Idle upstream sockets closed, the connection checker stopped (the service is shutting down). */
  close(): void {
    // Stops node's connection checker (the server was never listening: the callback's error is moot).
    this.#server.close(() => {});
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  /** The per-request decision; a refusal throws a GatehouseError for the page. */
  async #grant(session: AppSession): Promise<Granted> {
    const now = Date.now();
    const quick = session.quickRefusal(now);
    if (quick) throw quick;
    let app = session.app;
    if (now >= session.decidedUntil) {
      app = await decideApp(this.#opts.deps, session.identity, session.header.app, 'http');
      session.app = app;
      session.decidedUntil = now + this.#decisionReuseMs;
    }
    let plan = this.#plans.get(app);
    if (!plan) {
      plan = upstreamPlanOf(app);
      this.#plans.set(app, plan);
    }
    let token = session.token;
    if (!token || now >= token.refreshAt) {
      token = await this.#opts.tokens
        .get(session.certKey, session.header.user_cert_pem, app.name)
        .catch((e: unknown) => {
          if (e instanceof GatehouseError) throw e;
          // Without its JWT the app cannot tell who asks: as unusable as an app that is down.
          throw new GatehouseError(
            ErrorCode.APP_UNREACHABLE,
            `the app's identity token could not be signed (is auth reachable?): ${(e as Error).message}`,
          );
        });
      session.token = token;
    }
    // A lock may have arrived while the token was signed.
    const late = session.quickRefusal(Date.now());
    if (late) throw late;
    return { plan, jwt: token.token };
  }

  #onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const session = this.#sessions.get(req.socket);
    if (!session) {
      res.destroy();
      return;
    }
    const started = Date.now();
    const socket = req.socket;
    res.once('close', () => {
      // Requests on a connection are serial: the bytes since the last one ended are this one's,
      // its head included (read before 'request' fires).
      const read = socket.bytesRead;
      const written = socket.bytesWritten;
      session.audit.request({
        method: req.method ?? '',
        url: req.url ?? '',
        status: res.statusCode,
        bytesIn: read - session.bytesMark.read,
        bytesOut: written - session.bytesMark.written,
        durationMs: Date.now() - started,
      });
      session.bytesMark = { read, written };
    });
    this.#grant(session).then(
      (granted) => this.#forward(session, req, res, granted),
      (e: unknown) => this.#refuse(session, req, res, e),
    );
  }

  #refuse(session: AppSession, req: http.IncomingMessage, res: http.ServerResponse, e: unknown): void {
    const err = e instanceof GatehouseError ? e : new GatehouseError(ErrorCode.INTERNAL, (e as Error).message);
    this.#opts.log.warn('app request refused', {
      user: session.identity.user,
      app: session.header.app,
      code: err.code,
      reason: err.message,
    });
    if (err.code !== ErrorCode.APP_UNREACHABLE) session.endedBy ??= err.message;
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const page = appDenialResponse(err.code, err.message, req.headers.accept);
    res.writeHead(page.status, page.headers);
    res.end(page.body);
  }

  #upstreamRequest(
    session: AppSession,
    req: http.IncomingMessage,
    { plan, jwt }: Granted,
  ): { upstream: http.ClientRequest; hasBody: boolean } {
    const { headers, hasBody } = upstreamRequestHeaders(
      req.rawHeaders,
      plan,
      clientIpOf(session.header.client_addr),
      jwt,
    );
    const options: https.RequestOptions = {
      host: plan.host,
      port: plan.port,
      method: req.method ?? 'GET',
      path: plan.pathPrefix + (req.url ?? '/'),
      headers: headers as unknown as http.OutgoingHttpHeaders,
      setHost: false,
      agent: plan.secure ? this.#httpsAgent : this.#httpAgent,
      ...(plan.secure
        ? { rejectUnauthorized: plan.rejectUnauthorized, ...(plan.servername ? { servername: plan.servername } : {}) }
        : {}),
    };
    const upstream = (plan.secure ? https : http).request(options);
    upstream.on('socket', (s) => {
      if (!s.connecting) return;
      const timer = setTimeout(
        () => upstream.destroy(new Error(`no connection in ${APP_HTTP_LIMITS.upstreamConnectTimeoutMs} ms`)),
        APP_HTTP_LIMITS.upstreamConnectTimeoutMs,
      );
      s.once('connect', () => clearTimeout(timer));
      s.once('close', () => clearTimeout(timer));
    });
    return { upstream, hasBody };
  }

  #forward(session: AppSession, req: http.IncomingMessage, res: http.ServerResponse, granted: Granted): void {
    if (res.destroyed) return;
    const { upstream, hasBody } = this.#upstreamRequest(session, req, granted);
    session.streaming++;
    res.once('close', () => {
      session.streaming--;
      // The client went away mid-response: the upstream request is not wanted any more.
      if (!res.writableFinished) upstream.destroy();
    });
    upstream.on('response', (upRes) => {
      // Corked for this tick: node writes the head and the first body chunk (usually parsed from
      // the same upstream read) as two TLS records and two syscalls otherwise.
      res.cork();
      process.nextTick(() => res.uncork());
      res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, clientResponseHeaders(upRes.rawHeaders));
      relayBody(upRes, res);
      upRes.once('error', () => res.destroy());
    });
    upstream.on('error', (e) => this.#upstreamFailed(session, req, res, granted.plan, e));
    if (hasBody) relayBody(req, upstream);
    else upstream.end();
  }

  #upstreamFailed(
    session: AppSession,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    plan: UpstreamPlan,
    e: Error,
  ): void {
    const where = `${plan.secure ? 'https' : 'http'}://${plan.hostHeader}`;
    this.#refuse(
      session,
      req,
      res,
      new GatehouseError(
        ErrorCode.APP_UNREACHABLE,
        `app "${session.header.app}" did not answer at ${where}: ${e.message}`,
      ),
    );
  }

  #onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const session = this.#sessions.get(socket);
    if (!session) {
      socket.destroy();
      return;
    }
    this.#grant(session).then(
      (granted) => {
        const { upstream } = this.#upstreamRequest(session, req, granted);
        relayUpgrade(session, socket, head, upstream, this.#opts.log);
        upstream.end();
      },
      (e: unknown) => {
        const err = e instanceof GatehouseError ? e : new GatehouseError(ErrorCode.INTERNAL, (e as Error).message);
        session.endedBy ??= err.message;
        refuseUpgrade(socket, appDenialResponse(err.code, err.message, req.headers.accept));
      },
    );
  }
}

/**
 * A body from one message to the other, as pipe() but pausing the reader only once `limit`
 * bytes wait in the writer (as the byte relays do): pipe() paused the upstream response at
 * 16 KiB, i.e. after nearly every 64 KiB read, and each pause/resume stopped and restarted
 * reading its socket, which halved a download's rate (BENCHMARKS.md "Apps (issue 14)").
 * The writer is ended when the reader ends; a writer that closes early ends the exchange
 * elsewhere (the response's 'close' destroys the upstream request).
 */
export function relayBody(from: Readable, to: Writable, limit = DEFAULT_RELAY_QUEUE_LIMIT): void {
  from.on('data', (chunk: Buffer) => {
    if (to.destroyed) return;
    if (!to.write(chunk) && to.writableLength >= limit && !from.isPaused()) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.once('end', () => {
    if (!to.destroyed) to.end();
  });
}
