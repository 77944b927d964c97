// `kind: app` — an internal web app (http/https) or TCP service users reach through a local
// gateway, the proxy and an app service (docs/app-access.md). Dynamic ones come from `gatectl
// create -f`; static ones from an app service's configuration (ClusterService.RegisterApps,
// labelled with their origin). Who may use one is the roles' `app_labels` and device trust mode
// (src-cluster/authz/matchers/app.ts, authz/app-access.ts).
import { z } from 'zod';
import { description, labels, resourceName, strictFields, wrongType } from './fields.ts';
import type { KindDefinition } from './registry.ts';
import { validateKind } from './validate.ts';

export const APP_KIND = 'app';

/** Labels RegisterApps puts on the apps of an app service's configuration. */
export const APP_ORIGIN_LABEL = 'gatehouse.dev/origin';
export const APP_ORIGIN_CONFIG = 'config';
export const APP_SERVICE_LABEL = 'gatehouse.dev/app-service';

/** Longest spec.uri: an upstream address with a path prefix, not a document. */
export const MAX_APP_URI_CHARS = 2048;
/** Headers one app may set on every upstream request. */
export const MAX_REWRITE_HEADERS = 32;
/** Longest rewrite header value (characters); node's whole request head is bounded at 64 KiB. */
export const MAX_REWRITE_HEADER_VALUE_CHARS = 4096;
const MAX_HOST_CHARS = 253;

/**
 * Headers a rewrite may not set: Host and the JWT are the app service's to set (a rewrite could
 * otherwise forge the identity the upstream trusts), the rest frame the HTTP/1.1 message itself.
 */
export const FORBIDDEN_REWRITE_HEADERS = [
  'host',
  'gatehouse-jwt-assertion',
  'connection',
  'content-length',
  'transfer-encoding',
  'upgrade',
] as const;

export const APP_URI_SCHEMES = ['http', 'https', 'tcp'] as const;
export type AppUriScheme = (typeof APP_URI_SCHEMES)[number];

export interface AppRewriteHeader {
  name: string;
  value: string;
}

export interface AppSpec {
  /** http://host:port[/path] | https://host[:port][/path] | tcp://host:port */
  uri: string;
  /** Informational: where people know the app from (shown by `gate apps ls`). */
  public_addr?: string;
  rewrite?: { headers?: AppRewriteHeader[] };
  /** https upstreams: skip certificate verification. */
  insecure_skip_verify?: boolean;
}

export interface AppResource {
  kind: typeof APP_KIND;
  version: 'v3';
  metadata: { name: string; description?: string; labels?: Record<string, string> };
  spec: AppSpec;
}

/** spec.uri split into what the app service connects to. */
export interface AppUpstream {
  scheme: AppUriScheme;
  /** Host name or address, IPv6 without brackets. */
  host: string;
  port: number;
  /** Path prefix prepended to every request path ("" when none; never ends in "/"). TCP: "". */
  pathPrefix: string;
  /** host:port as an HTTP Host header names it (IPv6 in brackets). */
  hostHeader: string;
}

const URI_RULE =
  'expected http://host:port[/path], https://host[:port][/path] or tcp://host:port (port 1-65535; IPv6 as [addr])';

/** Why `uri` is not an upstream an app service can reach, or undefined. */
export function appUriProblem(uri: string): string | undefined {
  if (uri.length > MAX_APP_URI_CHARS) return `must be at most ${MAX_APP_URI_CHARS} characters`;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (!scheme) return `"${uri}" has no scheme: ${URI_RULE}`;
  if (!(APP_URI_SCHEMES as readonly string[]).includes(scheme)) {
    return `scheme "${scheme}" is not supported: ${URI_RULE}`;
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return `"${uri}" is not a URL: ${URI_RULE}`;
  }
  if (url.username || url.password) return 'user names and passwords do not belong in the uri';
  if (url.search || url.hash || uri.includes('?') || uri.includes('#')) {
    return 'a query string or fragment does not belong in the uri';
  }
  if (!url.hostname || url.hostname.length > MAX_HOST_CHARS) return `"${uri}" names no host: ${URI_RULE}`;
  if (scheme === 'tcp') {
    // WHATWG URL keeps no default port for tcp://, so an empty port is a missing one.
    if (!url.port) return `"${uri}" has no port: tcp apps need one (${URI_RULE})`;
    if (url.pathname !== '' && url.pathname !== '/') return 'a tcp uri has no path';
  }
  return undefined;
}

/** The upstream of a checked `uri` (appUriProblem returned undefined). */
export function appUpstream(uri: string): AppUpstream {
  const url = new URL(uri);
  const scheme = url.protocol.slice(0, -1) as AppUriScheme;
  const port = url.port ? Number(url.port) : scheme === 'https' ? 443 : 80;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const pathPrefix = scheme === 'tcp' ? '' : url.pathname.replace(/\/+$/, '');
  return { scheme, host, port, pathPrefix, hostHeader: url.port ? url.host : `${url.hostname}:${port}` };
}

// RFC 9110 token characters: what a header field name may consist of.
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$/;
// Visible ASCII, spaces and tabs, and obs-text; never CR, LF or NUL, which would split the message.
const HEADER_VALUE_PATTERN = /^[\t\x20-\x7e\x80-\xff]*$/;
// DNS name or address, with an optional :port (informational only, so no connection is made to it).
const PUBLIC_ADDR_PATTERN = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

const text = (what = 'a string') => z.string(wrongType(`expected ${what}`));

const uri = text('a URL such as http://127.0.0.1:3000').superRefine((value, ctx) => {
  const problem = appUriProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
});

const rewriteHeader = strictFields({
  name: text('a header name').superRefine((name, ctx) => {
    if (!HEADER_NAME_PATTERN.test(name)) {
      ctx.addIssue({ code: 'custom', message: `"${name}" is not an HTTP header name`, input: name });
    } else if ((FORBIDDEN_REWRITE_HEADERS as readonly string[]).includes(name.toLowerCase())) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} may not be rewritten (not allowed: Host, Gatehouse-Jwt-Assertion, Connection, Content-Length, Transfer-Encoding, Upgrade)`,
        input: name,
      });
    }
  }),
  value: text('a header value')
    .max(MAX_REWRITE_HEADER_VALUE_CHARS, { error: `must be at most ${MAX_REWRITE_HEADER_VALUE_CHARS} characters` })
    .regex(HEADER_VALUE_PATTERN, { error: 'a header value may not contain line breaks or control characters' }),
});

const rewriteHeaders = z
  .array(rewriteHeader, wrongType('expected a list of {name, value}'))
  .max(MAX_REWRITE_HEADERS, { error: `at most ${MAX_REWRITE_HEADERS} headers allowed` })
  .superRefine((headers, ctx) => {
    const seen = new Set<string>();
    for (const [i, h] of headers.entries()) {
      const key = h.name.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `header ${h.name} is listed twice`, input: h });
      }
      seen.add(key);
    }
  });

export const appSchema: z.ZodType<AppResource> = strictFields({
  kind: z.literal(APP_KIND),
  version: z.literal('v3'),
  metadata: strictFields({
    name: resourceName,
    description: description.optional(),
    labels: labels.optional(),
  }),
  spec: strictFields({
    uri,
    public_addr: text('a host name or host:port')
      .max(MAX_HOST_CHARS + 6, { error: `must be at most ${MAX_HOST_CHARS + 6} characters` })
      .regex(PUBLIC_ADDR_PATTERN, { error: 'expected a host name or host:port such as grafana.example.com' })
      .optional(),
    rewrite: strictFields({ headers: rewriteHeaders.optional() }).optional(),
    insecure_skip_verify: z.boolean(wrongType('expected true or false')).optional(),
  }),
});

function showLabels(labels: Record<string, string> | undefined): string {
  return Object.entries(labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** "http" (http/https upstream, ALPN gatehouse-app) or "tcp" (gatehouse-tcp): src-shared/app-route.ts's AppKind. */
export function appKindOf(app: Pick<AppResource, 'spec'>): 'http' | 'tcp' {
  return app.spec.uri.toLowerCase().startsWith('tcp://') ? 'tcp' : 'http';
}

/**
 * Whether the app service named `serviceName` serves `app`: a dynamic app (no service label) is
 * served by every app service, a configured one only by the service that registered it.
 */
export function appServedBy(app: { metadata: { labels?: Record<string, string> } }, serviceName: string): boolean {
  const owner = app.metadata.labels?.[APP_SERVICE_LABEL];
  return owner === undefined || owner === serviceName;
}

export const appKind: KindDefinition<AppResource> = {
  kind: APP_KIND,
  versions: ['v3'],
  schema: appSchema,
  description: 'an internal web app (http/https) or TCP service reached through an app service',
  aliases: ['apps', 'application', 'applications'],
  columns: [
    { header: 'KIND', value: (a) => appKindOf(a) },
    { header: 'URI', value: (a) => a.spec.uri },
    { header: 'PUBLIC_ADDR', value: (a) => a.spec.public_addr ?? '' },
    { header: 'LABELS', value: (a) => showLabels(a.metadata.labels) },
  ],
};

/** Builds and validates an app in code; throws INVALID_RESOURCE like parsed input would. */
export function newApp(
  name: string,
  spec: AppSpec,
  meta: { description?: string; labels?: Record<string, string> } = {},
): AppResource {
  return validateKind(appKind, { kind: APP_KIND, version: 'v3', metadata: { name, ...meta }, spec });
}
