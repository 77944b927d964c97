// The one renderer CSP in its three forms (Electron header, browser host header, index.html meta).
// Path resolution is tested in host/static-files.test.ts and electron/app-protocol.test.ts.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { RENDERER_META_CSP, rendererContentSecurityPolicy } from './renderer-files.ts';

const directives = (csp: string) =>
  new Map(csp.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1).join(' ')]));

test('the same directives everywhere; only connect-src differs by host', () => {
  const electron = directives(rendererContentSecurityPolicy());
  const host = directives(rendererContentSecurityPolicy({ connectSrc: ["'self'", 'ws://127.0.0.1:4000'] }));
  assert.equal(electron.get('connect-src'), "'none'");
  assert.equal(host.get('connect-src'), "'self' ws://127.0.0.1:4000");
  electron.delete('connect-src');
  host.delete('connect-src');
  assert.deepEqual(host, electron);
  assert.equal(electron.get('default-src'), "'none'");
  assert.equal(electron.get('frame-ancestors'), "'none'");
});

test('the meta backstop is the same policy without frame-ancestors, which a meta cannot carry', () => {
  const meta = directives(RENDERER_META_CSP);
  const header = directives(rendererContentSecurityPolicy({ connectSrc: ["'self'", 'ws://127.0.0.1:*'] }));
  assert.equal(meta.has('frame-ancestors'), false);
  header.delete('frame-ancestors');
  assert.deepEqual(meta, header);
  const html = readFileSync(new URL('../../src-renderer/index.html', import.meta.url), 'utf8');
  assert.match(
    html,
    /<meta http-equiv="Content-Security-Policy" content="%GATEHOUSE_CSP%" \/>/,
    'vite.config.ts fills it',
  );
});
