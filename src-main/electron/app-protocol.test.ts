// The app:// handler on a real directory: which URL serves which file, what is refused, and the
// headers (the one CSP, MIME types) every response carries.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  APP_INDEX_URL,
  APP_SCHEME_PRIVILEGES,
  createAppProtocolHandler,
  handleAppProtocol,
  registerAppScheme,
  resolveAppRequest,
  type ProtocolLike,
} from './app-protocol.ts';
import { APP_CSP } from './security-policy.ts';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'gh-app-protocol-')));
const root = join(dir, 'renderer');
mkdirSync(join(root, 'assets'), { recursive: true });
writeFileSync(join(root, 'index.html'), '<!doctype html><title>Gatehouse</title>');
writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
writeFileSync(join(root, 'assets', 'index-abc.css'), 'body{}');
writeFileSync(join(root, 'assets', 'font.woff2'), 'w');
writeFileSync(join(root, '.env'), 'SECRET=1');
writeFileSync(join(dir, 'outside.txt'), 'secret');
symlinkSync(join(dir, 'outside.txt'), join(root, 'assets', 'link.txt'));
after(() => rmSync(dir, { recursive: true, force: true }));

const handler = createAppProtocolHandler({ rendererDir: root });
const get = (url: string, method = 'GET') => handler(new Request(url, { method }));

describe('resolveAppRequest', () => {
  test('files of the renderer directory; routes get index.html', () => {
    assert.deepEqual(resolveAppRequest(root, 'GET', APP_INDEX_URL), { kind: 'file', path: join(root, 'index.html') });
    assert.deepEqual(resolveAppRequest(root, 'GET', 'app://gatehouse/assets/index-abc.js?v=2#x'), {
      kind: 'file',
      path: join(root, 'assets', 'index-abc.js'),
    });
    for (const route of ['app://gatehouse/', 'app://gatehouse/servers/web-1']) {
      assert.deepEqual(resolveAppRequest(root, 'GET', route), { kind: 'file', path: join(root, 'index.html') }, route);
    }
    assert.deepEqual(resolveAppRequest(root, 'HEAD', APP_INDEX_URL).kind, 'file');
  });

  test('traversal, dot-files, symlinks out, other hosts and methods are refused', () => {
    const refused: Array<[string, string, number]> = [
      ['GET', 'app://gatehouse/%2e%2e/outside.txt', 404],
      ['GET', 'app://gatehouse/assets/..%2f..%2foutside.txt', 404],
      ['GET', 'app://gatehouse/..%5coutside.txt', 400],
      ['GET', 'app://gatehouse/a%00.js', 400],
      ['GET', 'app://gatehouse/.env', 404],
      ['GET', 'app://gatehouse/assets/link.txt', 404],
      ['GET', 'app://gatehouse/assets/missing.js', 404],
      ['GET', 'app://evil/index.html', 404],
      ['GET', 'app://user:pw@gatehouse/index.html', 400],
      ['GET', 'app://gatehouse:8080/index.html', 400],
      ['GET', 'file:///etc/passwd', 404],
      ['GET', 'not a url', 400],
      ['POST', APP_INDEX_URL, 405],
    ];
    for (const [method, url, status] of refused) {
      assert.deepEqual(resolveAppRequest(root, method, url), { kind: 'error', status }, `${method} ${url}`);
    }
    // "../" is folded by the URL parser: it can only land on a path inside the directory.
    assert.deepEqual(resolveAppRequest(root, 'GET', 'app://gatehouse/../../outside.txt'), {
      kind: 'error',
      status: 404,
    });
  });
});

describe('createAppProtocolHandler', () => {
  test('serves files with their MIME type, the CSP and nosniff', async () => {
    const cases: Array<[string, string, string]> = [
      [APP_INDEX_URL, 'text/html; charset=utf-8', '<!doctype html><title>Gatehouse</title>'],
      ['app://gatehouse/assets/index-abc.js', 'text/javascript; charset=utf-8', 'console.log(1)'],
      ['app://gatehouse/assets/index-abc.css', 'text/css; charset=utf-8', 'body{}'],
      ['app://gatehouse/assets/font.woff2', 'font/woff2', 'w'],
    ];
    for (const [url, type, body] of cases) {
      const res = await get(url);
      assert.equal(res.status, 200, url);
      assert.equal(res.headers.get('content-type'), type, url);
      assert.equal(res.headers.get('content-security-policy'), APP_CSP);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(body)));
      assert.equal(await res.text(), body);
    }
  });

  test('refusals are plain text with the CSP too; HEAD has no body', async () => {
    const notFound = await get('app://gatehouse/.env');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.headers.get('content-security-policy'), APP_CSP);
    assert.doesNotMatch(await notFound.text(), /SECRET/);
    const post = await get(APP_INDEX_URL, 'POST');
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const head = await get(APP_INDEX_URL, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  test('a file that cannot be read is a 404, not a crash', async () => {
    const failing = createAppProtocolHandler({
      rendererDir: root,
      read: () => Promise.reject(new Error('EIO')),
    });
    const res = await failing(new Request(APP_INDEX_URL));
    assert.equal(res.status, 404);
  });
});

test('the scheme is registered standard + secure + fetch, and handled under its name', () => {
  const calls: unknown[] = [];
  const protocol: ProtocolLike = {
    registerSchemesAsPrivileged: (schemes) => void calls.push(['register', schemes]),
    handle: (scheme) => void calls.push(['handle', scheme]),
  };
  registerAppScheme(protocol);
  handleAppProtocol(protocol, { rendererDir: root });
  assert.deepEqual(calls, [
    ['register', [{ scheme: 'app', privileges: { standard: true, secure: true, supportFetchAPI: true } }]],
    ['handle', 'app'],
  ]);
  assert.equal(APP_SCHEME_PRIVILEGES.scheme, 'app');
});
