// Serving the built renderer (dist/renderer) to the browser over HTTP. Which path names which file,
// content types and the CSP are app/renderer-files.ts's, shared with the Electron app:// protocol.
// Every response carries the strict CSP.
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { contentTypeOf, rendererContentSecurityPolicy, resolveStaticPath } from '../app/renderer-files.ts';

// Moved to app/renderer-files.ts (shared with the Electron app:// protocol); kept importable here.
export { contentTypeOf, resolveStaticPath, type StaticTarget } from '../app/renderer-files.ts';

/** The renderer's one CSP (app/renderer-files.ts); this page also talks to its host's WebSocket. */
export function contentSecurityPolicy(port: number): string {
  return rendererContentSecurityPolicy({ connectSrc: ["'self'", `ws://127.0.0.1:${port}`] });
}

export function securityHeaders(port: number): Record<string, string> {
  return {
    'Content-Security-Policy': contentSecurityPolicy(port),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}

/**
 * The page to send instead of index.html as built (the browser host's launch shell), or undefined
 * for the file itself. Read on each request: the first screen depends on the stored clusters.
 */
export type IndexPage = () => Promise<string | undefined>;

export function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  port: number,
  indexPage?: IndexPage,
): void {
  const headers = securityHeaders(port);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { ...headers, Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('method not allowed\n');
    return;
  }
  const target = resolveStaticPath(root, req.url ?? '/');
  if (target.kind === 'bad-request' || target.kind === 'not-found') {
    const status = target.kind === 'bad-request' ? 400 : 404;
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(status === 400 ? 'bad request\n' : 'not found\n');
    return;
  }
  const path = target.kind === 'file' ? target.path : join(root, 'index.html');
  if (indexPage && path === join(root, 'index.html')) {
    indexPage().then(
      (html) => (html === undefined ? sendFile(req, res, path, headers) : sendHtml(req, res, html, headers)),
      () => sendFile(req, res, path, headers),
    );
    return;
  }
  sendFile(req, res, path, headers);
}

function sendHtml(req: IncomingMessage, res: ServerResponse, html: string, headers: Record<string, string>): void {
  const body = Buffer.from(html, 'utf8');
  res.writeHead(200, {
    ...headers,
    'Content-Type': contentTypeOf('index.html'),
    'Content-Length': String(body.length),
    'Cache-Control': 'no-cache',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendFile(req: IncomingMessage, res: ServerResponse, path: string, headers: Record<string, string>): void {
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
    return;
  }
  res.writeHead(200, {
    ...headers,
    'Content-Type': contentTypeOf(path),
    'Content-Length': String(size),
    // The renderer is rebuilt in place during development; never serve a stale copy.
    'Cache-Control': 'no-cache',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(path);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
