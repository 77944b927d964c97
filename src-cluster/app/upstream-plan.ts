// How one app's requests go upstream: its spec.uri taken apart once (scheme, host, port, path
// prefix, the Host header), its rewrite headers, and the headers of each request rewritten as a
// reverse proxy should (docs/app-access.md "Reverse proxy behaviour"). Works on node:http's raw
// header arrays ([name, value, name, value, ...]) so a request costs one pass and one array.
import { APP_JWT_HEADER } from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { ServedApp } from './app-request.ts';

/** Headers that belong to one connection (RFC 9110 7.6.1) and never cross the proxy. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Client headers the proxy sets itself (any client copy is dropped, whatever its case). */
const SET_BY_PROXY = new Set([
  'host',
  APP_JWT_HEADER,
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-for',
  // node's server has already answered "100 Continue" to the client; the body follows at once.
  'expect',
]);

export interface UpstreamPlan {
  secure: boolean;
  /** For connecting: an IPv6 address without its brackets. */
  host: string;
  port: number;
  /** `Host` upstream: host:port as spec.uri says it. */
  hostHeader: string;
  /** spec.uri's path without its trailing slash ('' for none), prepended to every request path. */
  pathPrefix: string;
  /** spec.rewrite.headers as [lower-case name, name, value]. */
  rewrite: ReadonlyArray<readonly [string, string, string]>;
  /** The rewrite headers' lower-case names: a client's copy of one is dropped. */
  rewriteNames: ReadonlySet<string>;
  rejectUnauthorized: boolean;
  /** TLS server name (SNI) for https upstreams named by DNS name. */
  servername?: string;
}

/** The plan of an HTTP app; a malformed uri is the administrator's mistake, told as such. */
export function upstreamPlanOf(app: ServedApp): UpstreamPlan {
  let url: URL;
  try {
    url = new URL(app.uri);
  } catch {
    throw new GatehouseError(ErrorCode.APP_UNREACHABLE, `app "${app.name}" has a malformed uri: ${app.uri}`);
  }
  const secure = url.protocol === 'https:';
  if (!secure && url.protocol !== 'http:') {
    throw new GatehouseError(ErrorCode.APP_UNREACHABLE, `app "${app.name}" is not an HTTP app: ${app.uri}`);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : secure ? 443 : 80;
  const isName = !/^[\d.]+$/.test(host) && !host.includes(':');
  const rewrite = (app.rewrite?.headers ?? []).map((h) => [h.name.toLowerCase(), h.name, h.value] as const);
  return {
    secure,
    host,
    port,
    hostHeader: url.host,
    pathPrefix: url.pathname === '/' ? '' : url.pathname.replace(/\/$/, ''),
    rewrite,
    rewriteNames: new Set(rewrite.map((r) => r[0])),
    rejectUnauthorized: app.insecure_skip_verify !== true,
    ...(secure && isName ? { servername: host } : {}),
  };
}

/** The address part of the proxy's client_addr ("ip:port", "[v6]:port" or "v6:port"). */
export function clientIpOf(clientAddr: string): string {
  const colon = clientAddr.lastIndexOf(':');
  const ip = colon < 0 ? clientAddr : clientAddr.slice(0, colon);
  return ip.startsWith('[') && ip.endsWith(']') ? ip.slice(1, -1) : ip;
}

export interface UpstreamRequestHeaders {
  /** Raw header array for http.request (setHost: false). */
  headers: string[];
  /** The request has a body (Content-Length > 0 or Transfer-Encoding). */
  hasBody: boolean;
  /** The Upgrade header's value, when the client asked for one (WebSocket). */
  upgrade?: string;
}

/** Names the Connection header lists: hop-by-hop as well (RFC 9110 7.6.1). */
function connectionTokens(raw: readonly string[]): Set<string> | undefined {
  let tokens: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue;
    for (const t of raw[i + 1]!.split(',')) {
      const name = t.trim().toLowerCase();
      if (name && name !== 'close' && name !== 'keep-alive' && name !== 'upgrade') (tokens ??= new Set()).add(name);
    }
  }
  return tokens;
}

/**
 * The upstream request's headers from the client's raw headers: hop-by-hop and proxy-set ones
 * dropped, X-Forwarded-For appended to, X-Forwarded-Host/Proto and Host set, the rewrite headers
 * (replacing a client's) and the JWT last.
 */
export function upstreamRequestHeaders(
  raw: readonly string[],
  plan: UpstreamPlan,
  clientIp: string,
  jwt: string,
): UpstreamRequestHeaders {
  const listed = connectionTokens(raw);
  const out: string[] = ['Host', plan.hostHeader];
  let forwardedFor: string | undefined;
  let clientHost = '';
  let hasBody = false;
  let upgrade: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    const lower = name.toLowerCase();
    if (lower === 'host') clientHost = value;
    else if (lower === 'x-forwarded-for') forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value;
    else if (lower === 'content-length') hasBody ||= value !== '0';
    else if (lower === 'transfer-encoding') hasBody = true;
    else if (lower === 'upgrade') upgrade = value;
    if (HOP_BY_HOP.has(lower) || SET_BY_PROXY.has(lower) || listed?.has(lower) || plan.rewriteNames.has(lower)) {
      continue;
    }
    out.push(name, value);
  }
  if (upgrade !== undefined) out.push('Connection', 'Upgrade', 'Upgrade', upgrade);
  out.push(
    'X-Forwarded-For',
    forwardedFor ? `${forwardedFor}, ${clientIp}` : clientIp,
    'X-Forwarded-Host',
    clientHost,
    'X-Forwarded-Proto',
    'http',
  );
  for (const [, name, value] of plan.rewrite) out.push(name, value);
  out.push('Gatehouse-Jwt-Assertion', jwt);
  return { headers: out, hasBody, ...(upgrade !== undefined ? { upgrade } : {}) };
}

/** The upstream response's headers for the client: hop-by-hop ones dropped (node sets its own). */
export function clientResponseHeaders(raw: readonly string[]): string[] {
  const listed = connectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || listed?.has(lower)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}
