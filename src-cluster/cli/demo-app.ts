// The demo cluster's sample web app ("whoami"), so that `npm start` has an app to Launch: a tiny
// upstream that does what a real internal app should do with Gatehouse — verify the
// Gatehouse-Jwt-Assertion header against the proxy's published keys (JWKS_PATH) and show whom
// the cluster vouches for. It runs in the demo process on a loopback port and is registered as a
// static app of the embedded app service (labels demo=true; the demo user's role allows them).
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import { APP_JWT_HEADER, JWKS_PATH } from '../../src-shared/cert-fields.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import type { Logger } from '../log/logger.ts';
import { TLS_CLIENT_SETTINGS } from '../../src-shared/tls-settings.ts';

export const DEMO_APP_NAME = 'whoami';
export const DEMO_APP_LABELS = { demo: 'true' } as const;
/** The JWKS document is small; anything larger is not the proxy's. */
const MAX_JWKS_BYTES = 64 << 10;
const JWKS_TIMEOUT_MS = 5_000;
/** A token signed by a key we have not seen refetches the JWKS at most this often. */
const JWKS_REFRESH_MIN_MS = 30_000;

export interface DemoWhoamiApp {
  /** The app's spec.uri (http://127.0.0.1:PORT). */
  uri: string;
  /** Where to fetch the signing keys from, once the proxy is up. */
  trustProxy(proxy: string, caPem: string, clusterName: string): void;
  close(): Promise<void>;
}

/** GET https://PROXY/.well-known/jwks.json trusting only the cluster's CA, bounded in size and time. */
function fetchJwks(proxy: string, caPem: string): Promise<JSONWebKeySet> {
  const [host, port] = splitHostPort(proxy);
  const request = { host, port, path: JWKS_PATH, ca: caPem, timeout: JWKS_TIMEOUT_MS, ...TLS_CLIENT_SETTINGS };
  return new Promise((resolve, reject) => {
    const req = https.get(request, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_JWKS_BYTES) req.destroy(new Error(`JWKS larger than ${MAX_JWKS_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`JWKS answered HTTP ${res.statusCode}`));
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as JSONWebKeySet);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no JWKS within ${JWKS_TIMEOUT_MS} ms`)));
    req.on('error', reject);
  });
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, rows: [string, string][], note: string): string {
  const body = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px system-ui,sans-serif;max-width:44em;margin:3em auto;padding:0 1em;color:#222}
th{text-align:left;padding:.2em 1em .2em 0;color:#555;font-weight:normal}p{color:#555}</style></head>
<body><h1>${escapeHtml(title)}</h1><table>${body}</table><p>${escapeHtml(note)}</p></body></html>\n`;
}

function identityRows(claims: JWTPayload): [string, string][] {
  const traits = (claims.traits ?? {}) as Record<string, string[]>;
  return [
    ['user', String(claims.username ?? claims.sub ?? '')],
    ['roles', ((claims.roles as string[] | undefined) ?? []).join(', ')],
    ['trusted device', claims.device_trusted ? `yes (${String(claims.device_id ?? '')})` : 'no'],
    ['logins', (traits.logins ?? []).join(', ')],
    ['token expires', claims.exp ? new Date(claims.exp * 1000).toISOString() : ''],
  ];
}

/** Starts the whoami upstream on 127.0.0.1 (a free port). */
export async function startDemoWhoamiApp(log: Logger): Promise<DemoWhoamiApp> {
  let trust: { proxy: string; caPem: string; clusterName: string } | undefined;
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let fetchedAt = 0;
  let uri = '';

  async function keySet(refresh: boolean): Promise<ReturnType<typeof createLocalJWKSet>> {
    if (!trust) throw new Error('the demo cluster is still starting');
    if (!keys || refresh) {
      keys = createLocalJWKSet(await fetchJwks(trust.proxy, trust.caPem));
      fetchedAt = Date.now();
    }
    return keys;
  }

  async function verify(token: string): Promise<JWTPayload> {
    const options = () => ({ issuer: trust?.clusterName, audience: uri });
    try {
      return (await jwtVerify(token, await keySet(false), options())).payload;
    } catch (e) {
      // A key this app has not seen yet (the cluster rotated it): fetch the keys again, not too often.
      const unknownKey = (e as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY';
      if (!unknownKey || Date.now() - fetchedAt < JWKS_REFRESH_MIN_MS) throw e;
      return (await jwtVerify(token, await keySet(true), options())).payload;
    }
  }

  const server = http.createServer((req, res) => {
    const token = req.headers[APP_JWT_HEADER];
    const send = (status: number, html: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(html);
    };
    if (typeof token !== 'string') {
      send(
        401,
        page('No Gatehouse identity', [], `This app expects the ${APP_JWT_HEADER} header; reach it through Gatehouse.`),
      );
      return;
    }
    verify(token).then(
      (claims) =>
        send(
          200,
          page(
            'Gatehouse demo app: who am I?',
            identityRows(claims),
            'This page verified the signed assertion Gatehouse added to the request against the keys the proxy publishes at ' +
              JWKS_PATH +
              '.',
          ),
        ),
      (e: Error) => {
        log.warn('demo app refused an assertion', { error: e.message });
        send(401, page('Assertion refused', [['why', e.message]], 'The signed identity did not verify.'));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    uri,
    trustProxy: (proxy, caPem, clusterName) => {
      trust = { proxy, caPem, clusterName };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
