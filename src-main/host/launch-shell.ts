// The launch shell (issue 16, launch): the first screen's markup, sent inside index.html by the
// browser host, so the "User name" field can be typed into as soon as the HTML is parsed instead
// of after the 260 KB entry chunk ran, React rendered and clusters.list came back over the
// WebSocket. Plain HTML, no script (the CSP allows none inline): the renderer takes over when its
// own login form renders, carrying what was typed and where the caret was
// (src-renderer/ui/launch-shell.ts), and removes the shell.
//
// Only the common launch screen is pre-rendered: "Log in to <cluster>" for the cluster the
// renderer will show (the current one, else the first), when no cluster has a session. Anything
// else (no cluster yet, a signed-in cluster) gets the page as built. The markup copies the
// classes of ui/top-bar.tsx, ui/login-screen.tsx and ui/login-form.tsx so nothing moves when
// React's screen replaces it; the shell's submit button stays disabled, which also stops Enter
// from submitting the shell's form (HTML's implicit submission skips a disabled default button).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterSummary } from '../ipc/contract.ts';

/** The element the renderer looks for (src-renderer/ui/launch-shell.ts has the same id). */
export const LAUNCH_SHELL_ID = 'launch-shell';
/** Where the shell goes in the built index.html: just before React's root. */
const ROOT_ELEMENT = '<div id="root"></div>';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** The cluster the first screen shows (session-store's currentCluster), when it is a login form. */
export function loginShellCluster(list: readonly ClusterSummary[] | undefined): ClusterSummary | undefined {
  const cluster = list?.find((c) => c.current) ?? list?.[0];
  if (!cluster || cluster.session || cluster.adding === 'failed') return undefined;
  return cluster;
}

const MARK =
  '<svg viewBox="0 0 32 32" width="32" height="32" aria-hidden="true" focusable="false">' +
  '<rect x="2" y="2" width="28" height="28" rx="7" fill="var(--color-primary)"></rect>' +
  '<path d="M9 24V14.5L16 9l7 5.5V24h-4.5v-5.5h-5V24z" fill="none" stroke="#fff" stroke-width="2" stroke-linejoin="round"></path>' +
  '</svg>';

function field(name: string, label: string, attributes: string): string {
  return (
    `<div class="field"><label for="launch-${name}">${label}</label>` +
    `<input id="launch-${name}" name="${name}" ${attributes}></div>`
  );
}

/** "Log in to <cluster>" as the renderer draws it, with the top bar's brand. */
export function loginShellMarkup(cluster: ClusterSummary): string {
  const otp =
    cluster.secondFactor === 'otp'
      ? field(
          'otp',
          'One-time code',
          'type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="16" class="input-code"',
        )
      : '';
  const button = cluster.adding === 'connecting' ? 'Connecting…' : 'Log in';
  return (
    `<div id="${LAUNCH_SHELL_ID}" class="app" data-proxy="${escapeHtml(cluster.proxy)}">` +
    `<header class="top-bar"><div class="brand">${MARK}<span class="brand-name">Gatehouse</span></div></header>` +
    '<main class="centered-page"><div class="card card-narrow">' +
    `<h1>Log in to ${escapeHtml(cluster.clusterName)}</h1>` +
    `<p class="lead">Proxy <span class="mono">${escapeHtml(cluster.proxy)}</span></p>` +
    '<form novalidate>' +
    field(
      'user',
      'User name',
      'type="text" autocomplete="username" autocapitalize="none" spellcheck="false" autofocus',
    ) +
    field('password', 'Password', 'type="password" autocomplete="current-password"') +
    otp +
    `<div class="actions"><button type="submit" class="button button-primary button-wide" disabled>${button}</button></div>` +
    '</form>' +
    `<p class="footnote">Cluster certificate authority <span class="mono fingerprint">${escapeHtml(cluster.caFingerprint)}</span></p>` +
    '</div></main></div>'
  );
}

/** index.html with `shell` before React's root; undefined when the page has no such root (then send it as built). */
export function withLaunchShell(indexHtml: string, shell: string): string | undefined {
  const at = indexHtml.indexOf(ROOT_ELEMENT);
  if (at < 0 || indexHtml.indexOf(ROOT_ELEMENT, at + 1) >= 0) return undefined;
  return indexHtml.slice(0, at) + shell + indexHtml.slice(at);
}

/**
 * The renderer's index.html (in `rendererDir`) with the login shell for `list`'s first screen, or
 * undefined when that screen is not a login form (the page is then sent as built).
 */
export function launchShellPage(rendererDir: string, list: readonly ClusterSummary[]): string | undefined {
  const cluster = loginShellCluster(list);
  if (!cluster) return undefined;
  return withLaunchShell(readFileSync(join(rendererDir, 'index.html'), 'utf8'), loginShellMarkup(cluster));
}
