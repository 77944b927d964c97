// The app:// protocol: the renderer (dist/renderer, inside app.asar when packaged) served to the
// window as app://gatehouse/..., instead of file://. A standard, secure scheme gives the page a
// real origin (file:// pages share one opaque origin with every local file), lets the protocol
// handler send the CSP as a header on every response, and keeps the page away from the rest of
// the file system: paths resolve inside the renderer directory only (app/renderer-files.ts, the
// same rules the browser host serves by). Electron's protocol API is passed in (ProtocolLike), so
// this file is tested in plain Node.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { contentTypeOf, resolveStaticPath } from '../app/renderer-files.ts';
import { APP_CSP } from './security-policy.ts';

export const APP_SCHEME = 'app';
/** The one host the app's pages live on; any other host under app:// is refused. */
export const APP_HOST = 'gatehouse';
export const APP_INDEX_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

/** What registerSchemesAsPrivileged takes for our scheme (Electron's CustomScheme). */
export const APP_SCHEME_PRIVILEGES = {
  scheme: APP_SCHEME,
  // standard: relative URLs and an origin like https; secure: a secure context (no mixed-content
  // downgrade); supportFetchAPI: the bundle's module scripts and assets load through fetch.
  privileges: { standard: true, secure: true, supportFetchAPI: true },
} as const;

/** The parts of Electron's `protocol` module used here. */
export interface ProtocolLike {
  registerSchemesAsPrivileged(schemes: Array<typeof APP_SCHEME_PRIVILEGES>): void;
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
}

export interface AppProtocolOptions {
  /** dist/renderer: a real absolute path (inside app.asar when packaged). */
  rendererDir: string;
  /** Reads a file (default fs/promises readFile, which Electron makes asar-aware). */
  read?: (path: string) => Promise<Uint8Array>;
}

/** Headers of every app:// response: the one CSP, no MIME sniffing, no referrer. */
export function appResponseHeaders(contentType: string): Record<string, string> {
  return {
    'Content-Type': contentType,
    'Content-Security-Policy': APP_CSP,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
    // The files come from the installed package: a new version is a new app, not a revalidation.
    'Cache-Control': 'no-cache',
  };
}

export type AppFileTarget = { kind: 'file'; path: string } | { kind: 'error'; status: 400 | 404 | 405 };

/**
 * Which file an app:// request names: only GET/HEAD, only host `gatehouse`, then the renderer
 * directory's rules (no "..", no dot-files, no symlinks out; routes get index.html).
 */
export function resolveAppRequest(rendererDir: string, method: string, url: string): AppFileTarget {
  if (method !== 'GET' && method !== 'HEAD') return { kind: 'error', status: 405 };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { kind: 'error', status: 400 };
  }
  if (parsed.protocol !== `${APP_SCHEME}:` || parsed.hostname !== APP_HOST) return { kind: 'error', status: 404 };
  if (parsed.username !== '' || parsed.password !== '' || parsed.port !== '') return { kind: 'error', status: 400 };
  // The URL parser has already folded plain "../" away; the raw path string still goes through the
  // shared checks, which refuse encoded traversal (%2e%2e, %2f, %5c) and dot-files.
  const target = resolveStaticPath(rendererDir, parsed.pathname);
  switch (target.kind) {
    case 'file':
      return target;
    case 'index':
      return { kind: 'file', path: join(rendererDir, 'index.html') };
    case 'bad-request':
      return { kind: 'error', status: 400 };
    case 'not-found':
      return { kind: 'error', status: 404 };
  }
}

const ERROR_TEXT: Record<400 | 404 | 405, string> = {
  400: 'bad request\n',
  404: 'not found\n',
  405: 'method not allowed\n',
};

/** The protocol.handle handler for app://. */
export function createAppProtocolHandler(opts: AppProtocolOptions): (request: Request) => Promise<Response> {
  const read = opts.read ?? ((path: string) => readFile(path));
  const plain = appResponseHeaders('text/plain; charset=utf-8');
  return async (request) => {
    const target = resolveAppRequest(opts.rendererDir, request.method, request.url);
    if (target.kind === 'error') {
      const headers = target.status === 405 ? { ...plain, Allow: 'GET, HEAD' } : plain;
      return new Response(ERROR_TEXT[target.status], { status: target.status, headers });
    }
    let body: Uint8Array;
    try {
      body = await read(target.path);
    } catch {
      return new Response(ERROR_TEXT[404], { status: 404, headers: plain });
    }
    const headers = { ...appResponseHeaders(contentTypeOf(target.path)), 'Content-Length': String(body.byteLength) };
    // A file's bytes are never backed by a SharedArrayBuffer, which is all the cast rules out.
    return new Response(request.method === 'HEAD' ? null : (body as Uint8Array<ArrayBuffer>), { status: 200, headers });
  };
}

/** Before app 'ready' (Electron's rule): app:// gets the privileges of a standard secure scheme. */
export function registerAppScheme(protocol: Pick<ProtocolLike, 'registerSchemesAsPrivileged'>): void {
  protocol.registerSchemesAsPrivileged([APP_SCHEME_PRIVILEGES]);
}

/** After 'ready': serve the renderer directory on app://gatehouse/. */
export function handleAppProtocol(protocol: Pick<ProtocolLike, 'handle'>, opts: AppProtocolOptions): void {
  protocol.handle(APP_SCHEME, createAppProtocolHandler(opts));
}
