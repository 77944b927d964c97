// The launch shell's markup and where it goes; that the renderer takes it over (typed text, focus)
// is e2e/launch-shell.spec.ts's, in Chromium.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterSummary } from '../ipc/contract.ts';
import { LAUNCH_SHELL_ID, escapeHtml, loginShellCluster, loginShellMarkup, withLaunchShell } from './launch-shell.ts';

const cluster = (over: Partial<ClusterSummary> = {}): ClusterSummary => ({
  proxy: 'proxy.example:3080',
  clusterName: 'prod',
  secondFactor: 'off',
  caFingerprint: 'SHA256:ab',
  current: false,
  ...over,
});

describe('loginShellCluster', () => {
  test('the current cluster, else the first (as the renderer picks it)', () => {
    const a = cluster({ proxy: 'a:1' });
    const b = cluster({ proxy: 'b:1', current: true });
    assert.equal(loginShellCluster([a, b]), b);
    assert.equal(loginShellCluster([a, cluster({ proxy: 'c:1' })]), a);
  });

  test('no shell without a cluster, with a session or a failed add (another screen shows)', () => {
    assert.equal(loginShellCluster([]), undefined);
    assert.equal(loginShellCluster(undefined), undefined);
    assert.equal(loginShellCluster([cluster({ adding: 'failed' })]), undefined);
    const session = { user: 'u', roles: [], expired: false } as unknown as ClusterSummary['session'];
    assert.equal(loginShellCluster([cluster({ session })]), undefined);
  });
});

describe('loginShellMarkup', () => {
  test('the login form with its labels, a disabled submit button, no script', () => {
    const html = loginShellMarkup(cluster());
    assert.match(html, new RegExp(`^<div id="${LAUNCH_SHELL_ID}" class="app" data-proxy="proxy.example:3080">`));
    assert.match(html, /<h1>Log in to prod<\/h1>/);
    assert.match(
      html,
      /<label for="launch-user">User name<\/label><input id="launch-user" name="user" [^>]*autofocus>/,
    );
    assert.match(html, /<label for="launch-password">Password<\/label><input id="launch-password" name="password"/);
    assert.match(html, /<button type="submit" [^>]*disabled>Log in<\/button>/);
    assert.doesNotMatch(html, /One-time code|<script|on\w+=/i);
  });

  test('a one-time-code field for an OTP cluster; "Connecting…" while a new cluster is added', () => {
    assert.match(loginShellMarkup(cluster({ secondFactor: 'otp' })), /<input id="launch-otp" name="otp"/);
    assert.match(loginShellMarkup(cluster({ adding: 'connecting' })), /disabled>Connecting…<\/button>/);
  });

  test('names from the stored files are escaped', () => {
    const html = loginShellMarkup(cluster({ clusterName: '<img src=x onerror=alert(1)>&"\'' }));
    assert.match(html, /<h1>Log in to &lt;img src=x onerror=alert\(1\)&gt;&amp;&quot;&#39;<\/h1>/);
    assert.equal(escapeHtml('a<b>&"\''), 'a&lt;b&gt;&amp;&quot;&#39;');
  });
});

describe('withLaunchShell', () => {
  test('goes right before React root; a page without exactly one root is left as built', () => {
    const page = '<body>\n<div id="root"></div>\n</body>';
    assert.equal(withLaunchShell(page, '<p>S</p>'), '<body>\n<p>S</p><div id="root"></div>\n</body>');
    assert.equal(withLaunchShell('<body></body>', '<p>S</p>'), undefined);
    assert.equal(withLaunchShell('<div id="root"></div><div id="root"></div>', '<p>S</p>'), undefined);
  });
});
