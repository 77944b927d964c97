import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  APP_CSP,
  decideNavigation,
  decideWindowOpen,
  devToolsEnabled,
  isAllowedExternalUrl,
  isAppUrl,
  isLocalGatewayUrl,
  isTrustedSender,
  withAppCsp,
} from './security-policy.ts';

const APP = 'app://gatehouse/index.html';

test('the app URL is exactly app://gatehouse/index.html, hash and query ignored', () => {
  assert.equal(isAppUrl(APP, APP), true);
  assert.equal(isAppUrl(`${APP}#/servers`, APP), true);
  assert.equal(isAppUrl(`${APP}?x=1`, APP), true);
  assert.equal(isAppUrl('app://gatehouse/other.html', APP), false, 'another page of the app origin');
  assert.equal(isAppUrl('app://gatehouse/assets/index.js', APP), false);
  assert.equal(isAppUrl('app://evil/index.html', APP), false);
  // Path tricks normalise before comparison: ../ that lands on the same page is the same page.
  assert.equal(isAppUrl('app://gatehouse/x/../index.html', APP), true);
  assert.equal(isAppUrl('app://gatehouse/x/index.html', APP), false);
  assert.equal(isAppUrl('file:///index.html', APP), false);
  assert.equal(isAppUrl('file:///etc/passwd', APP), false);
  assert.equal(isAppUrl('http://127.0.0.1:3000/index.html', APP), false);
  assert.equal(isAppUrl('not a url', APP), false);
  assert.equal(isAppUrl(APP, 'https://example.com/index.html'), false, 'an app URL that is not app:// trusts nothing');
});

test('a file:// index trusts nothing: the app is served from app:// only', () => {
  const file = 'file:///opt/Gatehouse/resources/app.asar/dist/renderer/index.html';
  assert.equal(isAppUrl(file, file), false);
  assert.equal(isAppUrl(APP, file), false);
});

test('IPC senders: only the app document in the top-level frame', () => {
  assert.equal(isTrustedSender({ url: APP, isMainFrame: true }, APP), true);
  assert.equal(isTrustedSender({ url: APP, isMainFrame: false }, APP), false, 'an iframe showing the app page');
  assert.equal(isTrustedSender({ url: 'https://evil.example/', isMainFrame: true }, APP), false);
  assert.equal(isTrustedSender({ url: 'about:blank', isMainFrame: true }, APP), false);
  assert.equal(isTrustedSender(null, APP), false, 'a destroyed frame');
  assert.equal(isTrustedSender(undefined, APP), false);
});

test('external links: http(s) on an allowed host only, no credentials, no other schemes', () => {
  const hosts = ['gatehouse.dev', 'github.com'];
  assert.equal(isAllowedExternalUrl('https://gatehouse.dev/docs', hosts), true);
  assert.equal(isAllowedExternalUrl('http://github.com/x', hosts), true);
  assert.equal(isAllowedExternalUrl('https://GITHUB.com./x', hosts), true, 'case and trailing dot');
  assert.equal(isAllowedExternalUrl('https://gatehouse.dev:8443/', hosts), true);
  assert.equal(isAllowedExternalUrl('https://evil.example/', hosts), false);
  assert.equal(isAllowedExternalUrl('https://gatehouse.dev.evil.example/', hosts), false);
  assert.equal(isAllowedExternalUrl('https://evilgithub.com/', hosts), false);
  assert.equal(isAllowedExternalUrl('https://github.com@evil.example/', hosts), false);
  assert.equal(isAllowedExternalUrl('https://user:pw@github.com/', hosts), false);
  assert.equal(isAllowedExternalUrl('file:///etc/passwd', hosts), false);
  assert.equal(isAllowedExternalUrl('javascript:alert(1)', hosts), false);
  assert.equal(isAllowedExternalUrl('smb://github.com/share', hosts), false);
  assert.equal(isAllowedExternalUrl('', hosts), false);
});

test('Launch opens only an app gateway URL: http://localhost:PORT/ exactly', () => {
  assert.equal(isLocalGatewayUrl('http://localhost:8888/'), true);
  assert.equal(isLocalGatewayUrl('http://localhost:8888'), true, 'the URL parser adds the slash');
  assert.equal(isLocalGatewayUrl('http://localhost/'), false, 'no port: not a gateway');
  assert.equal(isLocalGatewayUrl('https://localhost:8888/'), false);
  assert.equal(isLocalGatewayUrl('http://127.0.0.1:8888/'), false);
  assert.equal(isLocalGatewayUrl('http://localhost.evil.example:8888/'), false);
  assert.equal(isLocalGatewayUrl('http://user@localhost:8888/'), false);
  assert.equal(isLocalGatewayUrl('http://localhost:8888/admin'), false);
  assert.equal(isLocalGatewayUrl('http://localhost:8888/?next=x'), false);
  assert.equal(isLocalGatewayUrl('file:///etc/passwd'), false);
  assert.equal(isLocalGatewayUrl(''), false);
});

test('navigation: the app may reload itself; allowed links open outside; everything else is denied', () => {
  const hosts = ['gatehouse.dev'];
  assert.deepEqual(decideNavigation(`${APP}#/x`, APP, hosts), { action: 'allow' });
  assert.deepEqual(decideNavigation('https://gatehouse.dev/docs', APP, hosts), {
    action: 'open-external',
    url: 'https://gatehouse.dev/docs',
  });
  for (const target of [
    'https://evil.example/',
    'file:///home/u/.ssh/id_ed25519',
    'app://gatehouse/assets/evil.html',
    'data:text/html,<h1>x',
    'about:blank',
  ]) {
    assert.deepEqual(decideNavigation(target, APP, hosts), { action: 'deny' }, target);
  }
});

test('window.open never opens an app window: allowed links go to the OS browser, others nowhere', () => {
  assert.deepEqual(decideWindowOpen('https://gatehouse.dev/a', ['gatehouse.dev']), {
    action: 'open-external',
    url: 'https://gatehouse.dev/a',
  });
  assert.deepEqual(decideWindowOpen(APP, ['gatehouse.dev']), { action: 'deny' }, 'not even the app itself');
  assert.deepEqual(decideWindowOpen('https://evil.example/', ['gatehouse.dev']), { action: 'deny' });
});

test('the CSP header replaces any CSP in the response, whatever its casing, and keeps other headers', () => {
  const out = withAppCsp({
    'content-security-policy': ['default-src *'],
    'Content-Type': 'text/html',
    'X-A': ['1', '2'],
  });
  assert.deepEqual(out, {
    'Content-Type': ['text/html'],
    'X-A': ['1', '2'],
    'Content-Security-Policy': [APP_CSP],
  });
  assert.deepEqual(withAppCsp(undefined, "default-src 'none'"), { 'Content-Security-Policy': ["default-src 'none'"] });
});

test('the app CSP allows only bundled scripts and no network, frames, objects or base changes', () => {
  const directives = new Map(APP_CSP.split('; ').map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')]));
  assert.equal(directives.get('default-src'), "'none'");
  assert.equal(directives.get('script-src'), "'self'");
  assert.equal(directives.get('connect-src'), "'none'");
  assert.equal(directives.get('object-src'), "'none'");
  assert.equal(directives.get('base-uri'), "'none'");
  assert.equal(directives.get('frame-ancestors'), "'none'");
  assert.doesNotMatch(APP_CSP, /unsafe-eval/);
  assert.doesNotMatch(directives.get('script-src')!, /unsafe-inline/);
});

test('DevTools: development checkout and GATEHOUSE_DEV=1, never packaged', () => {
  assert.equal(devToolsEnabled(false, { GATEHOUSE_DEV: '1' }), true);
  assert.equal(devToolsEnabled(true, { GATEHOUSE_DEV: '1' }), false);
  assert.equal(devToolsEnabled(false, {}), false);
  assert.equal(devToolsEnabled(false, { GATEHOUSE_DEV: 'true' }), false);
});
