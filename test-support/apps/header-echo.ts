// Test-only: an HTTP upstream (node:http) that answers every request with JSON describing it —
// method, url, headers (as received, names lower-case, repeated headers as arrays), the body's size
// and SHA-256 and whether it came chunked — so an app-access test can check what the app service
// forwarded: the Gatehouse-Jwt-Assertion (verified with jose against the proxy's JWKS), that a
// client's forged one was stripped, Host / X-Forwarded-*, rewrite headers and chunked uploads.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';

/** What the upstream answers for each request. */
export interface EchoedRequest {
  method: string;
  url: string;
  /** req.headersDistinct: every header name (lower-case) with all its values. */
  headers: Record<string, string[]>;
  bodyBytes: number;
  bodySha256: string;
  chunked: boolean;
  /** The peer address the upstream saw (the app service's side of the connection). */
  remoteAddress: string;
}

export interface HeaderEcho {
  port: number;
  url: string;
  /** Every request seen so far, oldest first (at most the last 1000). */
  requests(): EchoedRequest[];
  stop(): Promise<void>;
}

const MAX_REMEMBERED = 1000;
/** An upload larger than this is answered 413 after reading it (the hash still covers all of it). */
const MAX_BODY_BYTES = 1 << 30;

function describe(req: IncomingMessage, bodyBytes: number, bodySha256: string): EchoedRequest {
  return {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headersDistinct as Record<string, string[]>,
    bodyBytes,
    bodySha256,
    chunked: /\bchunked\b/i.test(req.headers['transfer-encoding'] ?? ''),
    remoteAddress: req.socket.remoteAddress ?? '',
  };
}

export async function startHeaderEcho(): Promise<HeaderEcho> {
  const seen: EchoedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const hash = createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
    });
    req.on('end', () => {
      const echoed = describe(req, bytes, hash.digest('hex'));
      seen.push(echoed);
      if (seen.length > MAX_REMEMBERED) seen.shift();
      const body = JSON.stringify(echoed);
      res.writeHead(bytes > MAX_BODY_BYTES ? 413 : 200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    requests: () => [...seen],
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
