// Serving the built renderer (dist/renderer) to the browser: only regular files inside the
// directory, no dot-files, no ".." anywhere in the path (before or after decoding), symlinks
// resolved and checked to stay inside. Paths that are not files and have no extension get
// index.html (the app is a single page); a missing file with an extension is a plain 404, so a
// broken asset link is not answered with HTML. Every response carries the strict CSP.
import { createReadStream, realpathSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, sep } from 'node:path';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
};

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The spec's CSP: the page may talk to its own origin and this host's WebSocket only. */
export function contentSecurityPolicy(port: number): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    `connect-src 'self' ws://127.0.0.1:${port}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
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

export type StaticTarget =
  { kind: 'file'; path: string } | { kind: 'index' } | { kind: 'not-found' } | { kind: 'bad-request' };

/** Maps a request path to what to send. `root` must be a real (symlink-free) absolute path. */
export function resolveStaticPath(root: string, rawUrl: string): StaticTarget {
  const rawPath = rawUrl.split(/[?#]/, 1)[0] ?? '/';
  if (!rawPath.startsWith('/')) return { kind: 'bad-request' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { kind: 'bad-request' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { kind: 'bad-request' };
  const segments = decoded.split('/').filter((s) => s !== '');
  // "..", "." and dot-files never name something to serve; refusing them is simpler than normalizing.
  if (segments.some((s) => s.startsWith('.'))) return { kind: 'not-found' };
  if (segments.length === 0) return { kind: 'index' };
  const candidate = join(root, ...segments);
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    return extname(segments[segments.length - 1]!) ? { kind: 'not-found' } : { kind: 'index' };
  }
  if (!real.startsWith(root + sep)) return { kind: 'not-found' };
  try {
    if (statSync(real).isFile()) return { kind: 'file', path: real };
  } catch {
    return { kind: 'not-found' };
  }
  return { kind: 'index' };
}

export function serveStatic(req: IncomingMessage, res: ServerResponse, root: string, port: number): void {
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
