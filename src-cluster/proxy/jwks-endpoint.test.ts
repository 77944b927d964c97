// The JWKS endpoint on the proxy's one port, fetched with real curl over HTTP/1.1 and HTTP/2
// (the h2 side is the API route, where only this path is answered by the proxy), plus the
// document cache: 60 s, the last good copy while auth is away, 503 when there never was one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as https from 'node:https';
import type { TLSSocket } from 'node:tls';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JWKS_PATH } from '../../src-shared/cert-fields.ts';
import { createMemoryLogger } from '../log/logger.ts';
import { ProxyServer } from './proxy.ts';
import { answerJwks, JWKS_CACHE_MS, JwksSource, type JwksResponse } from './jwks-endpoint.ts';
import { hostPair, makeDbTestPki } from '../db/test-support/db-pki.ts';

const run = promisify(execFile);
const JWKS = JSON.stringify({
  keys: [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'k1', alg: 'ES256', use: 'sig' }],
});

let dir: string;
let caFile: string;
let proxy: ProxyServer;
let base: string;
let fetches = 0;
const apiPaths: string[] = [];

before(async () => {
  const pki = await makeDbTestPki();
  const pair = await hostPair(pki.hostCa, 'proxy', 'proxy1');
  dir = mkdtempSync(join(tmpdir(), 'jwks-'));
  caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pki.hostCa.certPem);
  const log = createMemoryLogger('error');
  proxy = new ProxyServer({
    listenHost: '127.0.0.1',
    listenPort: 0,
    tls: { certPem: pair.certPem, keyPem: pair.keyPem, chainPem: [pki.hostCa.certPem] },
    userCaPems: () => [pki.userCa.certPem],
    apiHandler: (req, res) => {
      apiPaths.push(req.url);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('api');
    },
    backends: { findNode: async () => undefined },
    jwks: new JwksSource({
      fetch: async () => {
        fetches++;
        return JWKS;
      },
      log,
    }),
    logger: log,
  });
  base = `https://127.0.0.1:${(await proxy.start()).port}`;
});

after(async () => {
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

/** curl's status, negotiated HTTP version, response headers (lower case) and body. */
async function curl(version: '--http1.1' | '--http2', path: string, extra: string[] = []) {
  const { stdout } = await run('curl', [
    '-sS',
    version,
    '--cacert',
    caFile,
    '-D',
    '-',
    '-w',
    '\n%{http_code} %{http_version}',
    ...extra,
    `${base}${path}`,
  ]);
  const [head, ...rest] = stdout.split('\r\n\r\n');
  const tail = rest.join('\r\n\r\n').split('\n');
  const [status, httpVersion] = tail.pop()!.split(' ');
  const headers = Object.fromEntries(
    head!
      .split('\r\n')
      .slice(1)
      .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  return { status: Number(status), httpVersion, headers, body: tail.join('\n') };
}

test('curl gets the JWKS over HTTP/1.1 and HTTP/2 from one cached fetch', async () => {
  for (const version of ['--http1.1', '--http2'] as const) {
    const r = await curl(version, JWKS_PATH);
    assert.equal(r.status, 200, version);
    assert.equal(r.httpVersion, version === '--http2' ? '2' : '1.1');
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['cache-control'], 'public, max-age=60');
    assert.deepEqual(JSON.parse(r.body), JSON.parse(JWKS));
  }
  assert.equal(fetches, 1);
  assert.equal(apiPaths.length, 0, 'the JWKS path never reaches the API');
});

test('a client offering no ALPN at all (node:https) is served as HTTP/1.1', async () => {
  const body = await new Promise<string>((resolve, reject) => {
    https
      .get(`${base}${JWKS_PATH}`, { ca: readFileSync(caFile, 'utf8') }, (res) => {
        assert.equal((res.socket as TLSSocket).alpnProtocol, false);
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve(text));
      })
      .on('error', reject);
  });
  assert.equal(body, JWKS);
});

test('over HTTP/1.1 anything else is 404, other methods 405; over h2 other paths are the API', async () => {
  assert.equal((await curl('--http1.1', '/gatehouse.v1.AuthService/Ping')).status, 404);
  const post = await curl('--http1.1', JWKS_PATH, ['-X', 'POST']);
  assert.equal(post.status, 405);
  assert.equal(post.headers['allow'], 'GET, HEAD');
  const head = await curl('--http1.1', JWKS_PATH, ['-I']);
  assert.equal(head.status, 200);
  assert.equal(head.headers['content-length'], String(JWKS.length));
  const api = await curl('--http2', '/gatehouse.v1.AuthService/Ping');
  assert.equal(api.body, 'api');
  assert.deepEqual(apiPaths, ['/gatehouse.v1.AuthService/Ping']);
});

/** A response that records what answerJwks wrote. */
function recorder(): JwksResponse & { status?: number; body?: string | undefined } {
  const r: JwksResponse & { status?: number; body?: string | undefined } = {
    writeHead: (status) => (r.status = status),
    end: (body?: string) => (r.body = body),
  };
  return r;
}

test('the document is kept 60 s, the last good copy served while auth is away, 503 when there never was one', async () => {
  let now = 0;
  let answer: () => string = () => JWKS;
  let calls = 0;
  const source = new JwksSource({
    fetch: async () => {
      calls++;
      return answer();
    },
    log: createMemoryLogger('error'),
    now: () => now,
  });
  assert.equal(await source.current(), JWKS);
  now = JWKS_CACHE_MS - 1;
  assert.equal(await source.current(), JWKS);
  assert.equal(calls, 1);
  answer = () => {
    throw new Error('auth unreachable');
  };
  now = JWKS_CACHE_MS;
  assert.equal(await source.current(), JWKS, 'last good copy');
  assert.equal(calls, 2);
  answer = () => '{"nokeys":true}';
  assert.equal(await source.current(), JWKS, 'a document without keys is not taken');

  const never = new JwksSource({
    fetch: async () => Promise.reject(new Error('auth unreachable')),
    log: createMemoryLogger('error'),
  });
  const res = recorder();
  await answerJwks(never, { method: 'GET', url: JWKS_PATH }, res);
  assert.equal(res.status, 503);
  assert.match(res.body!, /auth is unreachable/);
});

test('concurrent requests share one fetch', async () => {
  let calls = 0;
  const source = new JwksSource({
    fetch: async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      return JWKS;
    },
    log: createMemoryLogger('error'),
  });
  const all = await Promise.all(Array.from({ length: 10 }, () => source.current()));
  assert.ok(all.every((d) => d === JWKS));
  assert.equal(calls, 1);
});
