// Which request paths map to which files; the HTTP side is in integration/host.test.ts.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contentTypeOf, resolveStaticPath } from './static-files.ts';

describe('resolveStaticPath', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'gh-static-')));
  const root = join(dir, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), 'x');
  writeFileSync(join(root, 'assets', 'a.js'), 'x');
  writeFileSync(join(root, '.env'), 'x');
  writeFileSync(join(dir, 'outside.txt'), 'x');
  symlinkSync(join(dir, 'outside.txt'), join(root, 'assets', 'link.txt'));
  symlinkSync(dir, join(root, 'up'));

  test('files inside are served; routes get index.html; missing assets are 404', () => {
    assert.deepEqual(resolveStaticPath(root, '/assets/a.js?v=1'), { kind: 'file', path: join(root, 'assets', 'a.js') });
    assert.deepEqual(resolveStaticPath(root, '/'), { kind: 'index' });
    assert.deepEqual(resolveStaticPath(root, '/servers/web-1'), { kind: 'index' });
    assert.deepEqual(resolveStaticPath(root, '/assets'), { kind: 'index' });
    assert.deepEqual(resolveStaticPath(root, '/assets/b.js'), { kind: 'not-found' });
  });

  test('nothing outside the directory, no dot-files, no symlinks leading out', () => {
    for (const p of [
      '/../outside.txt',
      '/%2e%2e/outside.txt',
      '/assets/..%2f..%2foutside.txt',
      '/.env',
      '/assets/./a.js',
    ]) {
      assert.equal(resolveStaticPath(root, p).kind, 'not-found', p);
    }
    assert.equal(resolveStaticPath(root, '/assets/link.txt').kind, 'not-found');
    assert.equal(resolveStaticPath(root, '/up/outside.txt').kind, 'not-found');
    assert.equal(resolveStaticPath(root, '/..%5coutside.txt').kind, 'bad-request');
    assert.equal(resolveStaticPath(root, '/a%00.js').kind, 'bad-request');
    assert.equal(resolveStaticPath(root, '/%E0%A4%A').kind, 'bad-request');
    assert.equal(resolveStaticPath(root, 'http://x/').kind, 'bad-request');
  });

  test('content types', () => {
    assert.equal(contentTypeOf('a/b.JS'), 'text/javascript; charset=utf-8');
    assert.equal(contentTypeOf('x.woff2'), 'font/woff2');
    assert.equal(contentTypeOf('x.unknown'), 'application/octet-stream');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));
});
