// The built renderer (dist/renderer) as both hosts deliver it: which request path names which
// file, its content type, and the one Content-Security-Policy. The browser host serves it over
// HTTP (host/static-files.ts) and the Electron shell over its app:// protocol
// (electron/app-protocol.ts); sharing this module keeps the two from drifting apart.
// Only regular files inside the directory, no dot-files, no ".." anywhere in the path (before or
// after decoding), symlinks resolved and checked to stay inside. Paths that are not files and have
// no extension get index.html (the app is a single page); a missing file with an extension is a
// plain 404, so a broken asset link is not answered with HTML.
import { realpathSync, statSync } from 'node:fs';
import { extname, join, sep } from 'node:path';

/**
 * The CSP of every renderer page, in both hosts. `'unsafe-inline'` for styles only: React and
 * xterm.js set style attributes; scripts come from the bundled files alone. `connectSrc` is the
 * one difference between hosts: the Electron renderer reaches nothing over the network
 * (everything goes through the preload), the browser host's page talks to its own WebSocket.
 */
export function rendererContentSecurityPolicy(
  opts: {
    connectSrc?: readonly string[];
    /** For index.html's <meta> backstop, which cannot carry frame-ancestors (browsers ignore it there). */
    meta?: boolean;
  } = {},
): string {
  const connect = opts.connectSrc && opts.connectSrc.length > 0 ? opts.connectSrc.join(' ') : "'none'";
  const directives = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    `connect-src ${connect}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "frame-src 'none'",
    "worker-src 'none'",
  ];
  return (opts.meta ? directives.filter((d) => !d.startsWith('frame-ancestors')) : directives).join('; ');
}

/**
 * The <meta> backstop in index.html (vite.config.ts fills it in): the same policy, with any
 * 127.0.0.1 WebSocket, since the browser host's port is known only at run time. The header each
 * host sends is the exact one; a document under both policies gets the stricter of each.
 */
export const RENDERER_META_CSP = rendererContentSecurityPolicy({
  connectSrc: ["'self'", 'ws://127.0.0.1:*'],
  meta: true,
});

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

/** What a request path names; `index`: no file (a route of the single page app), send index.html. */
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
