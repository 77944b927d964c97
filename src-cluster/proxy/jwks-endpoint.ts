// GET https://PROXY/.well-known/jwks.json on the proxy's one port: the public halves of auth's
// JWT signing keys, so an app behind the app service can verify the Gatehouse-Jwt-Assertion
// header with any JOSE library (docs/app-access.md "Identity for the upstream").
// Two ways in: ALPN http/1.1 (or no ALPN) gets a small node:http server fed the TLS socket that
// answers only this path; ALPN h2 is the API route, where the proxy answers this one path itself
// before forwarding the rest. The document comes from ClusterService.GetJwks, is kept for
// JWKS_CACHE_MS, and the last good copy is served while auth is unreachable.
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { JWKS_PATH } from '../../src-shared/cert-fields.ts';
import type { Logger } from '../log/logger.ts';

/** How long a fetched document is served before GetJwks is asked again (also the max-age). */
export const JWKS_CACHE_MS = 60_000;
/** One GetJwks call may take this long before the last good copy (or 503) is served. */
export const JWKS_FETCH_TIMEOUT_MS = 5_000;
/** A JWKS of a few EC keys is well under 2 KiB; anything this large is not one. */
export const MAX_JWKS_CHARS = 64 << 10;
/** A kept-alive http/1.1 connection is closed after this long without a request. */
const HTTP1_KEEP_ALIVE_MS = 5_000;

export interface JwksSourceOptions {
  /** ClusterService.GetJwks through the proxy's cluster client: the JWKS JSON text. */
  fetch: (timeoutMs: number) => Promise<string>;
  log: Logger;
  cacheMs?: number;
  now?: () => number;
}

/** Throws unless `text` is a JWKS document ({"keys": [...]}), so that a bad answer is never cached. */
function checkedJwks(text: string): string {
  if (text.length > MAX_JWKS_CHARS) throw new Error(`JWKS document of ${text.length} characters is too large`);
  const doc = JSON.parse(text) as { keys?: unknown };
  if (typeof doc !== 'object' || doc === null || !Array.isArray(doc.keys))
    throw new Error('the JWKS document has no "keys" array');
  return text;
}

/** The JWKS document, fetched on demand at most once per cacheMs; concurrent requests share one fetch. */
export class JwksSource {
  readonly #opts: JwksSourceOptions;
  #document: string | undefined;
  #fetchedAtMs = -Infinity;
  #inFlight: Promise<string | undefined> | undefined;

  constructor(opts: JwksSourceOptions) {
    this.#opts = opts;
  }

  /** The current document; the last good one when auth does not answer; undefined when there never was one. */
  async current(): Promise<string | undefined> {
    const now = (this.#opts.now ?? Date.now)();
    if (this.#document !== undefined && now - this.#fetchedAtMs < (this.#opts.cacheMs ?? JWKS_CACHE_MS)) {
      return this.#document;
    }
    this.#inFlight ??= this.#refresh().finally(() => (this.#inFlight = undefined));
    return this.#inFlight;
  }

  async #refresh(): Promise<string | undefined> {
    try {
      this.#document = checkedJwks(await this.#opts.fetch(JWKS_FETCH_TIMEOUT_MS));
      this.#fetchedAtMs = (this.#opts.now ?? Date.now)();
    } catch (e) {
      this.#opts.log.warn('fetching the JWKS from auth failed; serving the last good copy', {
        error: (e as Error).message,
        have_copy: this.#document !== undefined,
      });
    }
    return this.#document;
  }
}

/** The parts of node:http's and node:http2's compatibility request/response this endpoint uses. */
export interface JwksRequest {
  method?: string | undefined;
  url?: string | undefined;
}
export interface JwksResponse {
  writeHead(status: number, headers: Record<string, string>): unknown;
  end(): unknown;
  end(body: string): unknown;
}

/** True for the JWKS path (a query string is ignored, as HTTP caches and JOSE libraries may add one). */
export function isJwksPath(url: string | undefined): boolean {
  return url !== undefined && (url === JWKS_PATH || url.startsWith(`${JWKS_PATH}?`));
}

function plain(res: JwksResponse, status: number, text: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...extra });
  res.end(`${text}\n`);
}

/** Answers one request: the JWKS for GET/HEAD of JWKS_PATH, else 404 / 405 / 503. */
export async function answerJwks(source: JwksSource, req: JwksRequest, res: JwksResponse): Promise<void> {
  if (!isJwksPath(req.url)) return plain(res, 404, 'not found');
  if (req.method !== 'GET' && req.method !== 'HEAD')
    return plain(res, 405, 'method not allowed', { allow: 'GET, HEAD' });
  const document = await source.current();
  if (document === undefined)
    return plain(res, 503, 'the JWKS is unavailable: auth is unreachable', { 'retry-after': '5' });
  res.writeHead(200, {
    'content-type': 'application/json',
    'cache-control': `public, max-age=${Math.round(JWKS_CACHE_MS / 1000)}`,
    'content-length': String(Buffer.byteLength(document)),
  });
  if (req.method === 'HEAD') res.end();
  else res.end(document);
}

/** The http/1.1 side: one node:http server that connections with ALPN http/1.1 (or none) are handed to. */
export class JwksHttpEndpoint {
  readonly #server: http.Server;

  constructor(source: JwksSource, idleTimeoutMs: number, log: Logger) {
    // The request head is bounded by node's default (16 KiB). requestTimeout/headersTimeout are
    // not set: node enforces them only for servers that listen, and this one is fed sockets. The
    // bound is the socket idle time-out below (node destroys a socket idle that long when the
    // server has no 'timeout' listener), with the proxy's per-source connection cap.
    this.#server = http.createServer({ keepAliveTimeout: HTTP1_KEEP_ALIVE_MS }, (req, res) => {
      answerJwks(source, req, res).catch((e: Error) => {
        log.error('answering a JWKS request failed', { error: e.message });
        res.destroy();
      });
    });
    this.#server.timeout = idleTimeoutMs;
  }

  /** Serves HTTP/1.1 on an accepted TLS connection. */
  serve(socket: Duplex): void {
    this.#server.emit('connection', socket);
  }
}
