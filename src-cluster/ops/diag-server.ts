// The diagnostics listener (Teleport's diag_addr): GET /healthz, /readyz and /metrics on a port of
// its own, so scrapers and probes never touch the proxy's or auth's TLS listeners and their limits.
// Plain HTTP: it serves no secrets, and probes (kubelet, load balancers) rarely speak mTLS. Loopback
// unless the operator names another address. Hand-written on node:http: three fixed routes need no
// framework, and the limits below are the whole attack surface.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import type { Logger } from '../log/logger.ts';
import type { HealthReport, ProcessHealth } from './health.ts';
import type { ProcessMetrics } from './metrics.ts';

/** Probes send no body; anything more than a request line and a few headers is refused. */
export const DIAG_MAX_HEADER_BYTES = 8 * 1024;
/**
 * Idle keep-alive connections close after DIAG_KEEP_ALIVE_TIMEOUT_MS; the header time-out must be
 * longer, or Node closes an idle kept-alive socket on that timer first, racing a client's next
 * request on it ("other side closed" in a scrape right after a 5 s pause).
 */
export const DIAG_KEEP_ALIVE_TIMEOUT_MS = 5_000;
export const DIAG_HEADERS_TIMEOUT_MS = 10_000;
/** Longer than a probe's own time-out, so a slow readiness check answers 503 rather than a reset. */
export const DIAG_REQUEST_TIMEOUT_MS = 15_000;
/** A scraper and a few probes; more at once means something is hammering the port. */
export const DIAG_MAX_CONNECTIONS = 32;

export interface DiagServerOptions {
  /** HOST:PORT; port 0 picks a free one (tests). */
  listenAddr: string;
  health: ProcessHealth;
  metrics: ProcessMetrics;
  log: Logger;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, {
    'content-type': contentType,
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

function sendReport(res: ServerResponse, report: HealthReport): void {
  send(res, report.status === 'ok' ? 200 : 503, 'application/json', JSON.stringify(report) + '\n');
}

export class DiagServer {
  readonly #server: Server;
  readonly #opts: DiagServerOptions;

  constructor(opts: DiagServerOptions) {
    this.#opts = opts;
    this.#server = createServer({ maxHeaderSize: DIAG_MAX_HEADER_BYTES }, (req, res) => {
      this.#handle(req, res).catch((e: Error) => {
        opts.log.error('diagnostics request failed', { path: req.url ?? '', error: e.message });
        if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
        else res.destroy();
      });
    });
    this.#server.headersTimeout = DIAG_HEADERS_TIMEOUT_MS;
    this.#server.requestTimeout = DIAG_REQUEST_TIMEOUT_MS;
    this.#server.keepAliveTimeout = DIAG_KEEP_ALIVE_TIMEOUT_MS;
    this.#server.maxConnections = DIAG_MAX_CONNECTIONS;
  }

  /** Listens; resolves with HOST:PORT (the real port when 0 was asked for). */
  async start(): Promise<string> {
    const [host, port] = splitHostPort(this.#opts.listenAddr);
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) =>
        reject(
          new GatehouseError(
            ErrorCode.CONFIG,
            `diagnostics listener ${this.#opts.listenAddr}: ${e.code ?? e.message} (diagnostics.listen_addr / --diag-addr)`,
          ),
        );
      this.#server.once('error', onError);
      this.#server.listen(Number(port), host, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
    const a = this.#server.address() as AddressInfo;
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'GET') {
      res.setHeader('allow', 'GET');
      return send(res, 405, 'text/plain', 'only GET is served here\n');
    }
    // A GET with a body is not a probe; refusing it keeps unread bytes off the connection.
    if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined) {
      res.setHeader('connection', 'close');
      return send(res, 413, 'text/plain', 'request body not accepted\n');
    }
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return sendReport(res, await this.#opts.health.liveness());
    if (path === '/readyz') return sendReport(res, await this.#opts.health.readiness());
    if (path === '/metrics') {
      const { contentType, body } = await this.#opts.metrics.scrape();
      return send(res, 200, contentType, body);
    }
    send(res, 404, 'text/plain', 'not found: try /healthz, /readyz or /metrics\n');
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
