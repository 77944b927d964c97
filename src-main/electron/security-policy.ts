// The Electron shell's security decisions as pure functions, so they are unit-tested without
// Electron: which URLs are the app itself, which senders may use IPC, where navigation may go,
// which external links open in the OS browser, and the CSP every app page gets.
// The renderer is untrusted (it renders cluster-supplied names and terminal output), so every
// decision here defaults to "deny" and only lets through what the app itself needs.
import { rendererContentSecurityPolicy } from '../app/renderer-files.ts';

/**
 * The CSP of the app's pages, sent by the app:// protocol handler (app-protocol.ts): the one
 * definition both hosts share (app/renderer-files.ts), with nothing reachable over the network
 * (`connect-src 'none'`): the Electron renderer talks to main through the preload only.
 */
export const APP_CSP = rendererContentSecurityPolicy();

/** Hosts whose http(s) links the app may hand to the OS browser (docs, source). */
export const DEFAULT_EXTERNAL_HOSTS: readonly string[] = ['gatehouse.dev', 'docs.gatehouse.dev', 'github.com'];

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/**
 * True when `url` is the app's own page: the scheme, host and path of the app's index URL
 * (app://gatehouse/index.html, see app-protocol.ts). Query and fragment are ignored (the renderer
 * may route with the hash); no other page of the app's origin counts and nothing under file://
 * does, so a renderer tricked into loading another page or a local file gets no IPC.
 */
export function isAppUrl(url: string, appIndexUrl: string): boolean {
  const u = parse(url);
  const app = parse(appIndexUrl);
  if (!u || !app || app.protocol !== 'app:') return false;
  return u.protocol === app.protocol && u.host === app.host && u.pathname === app.pathname;
}

/** What main knows about the frame that sent an IPC message (Electron's WebFrameMain, reduced). */
export interface SenderFrame {
  url: string;
  /** False for iframes: only the app's top-level document may call main. */
  isMainFrame: boolean;
}

/** IPC is served only to the app's own top-level document; `null` = the frame is gone. */
export function isTrustedSender(frame: SenderFrame | null | undefined, appIndexUrl: string): boolean {
  return !!frame && frame.isMainFrame && isAppUrl(frame.url, appIndexUrl);
}

/**
 * True for http(s) URLs on an allowed host (exact host match, any port), without credentials.
 * Userinfo is refused because `https://github.com@evil.example/` style links mislead people.
 */
export function isAllowedExternalUrl(url: string, allowedHosts: readonly string[] = DEFAULT_EXTERNAL_HOSTS): boolean {
  const u = parse(url);
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) return false;
  if (u.username !== '' || u.password !== '') return false;
  const host = u.hostname.toLowerCase().replace(/\.$/, '');
  return allowedHosts.some((h) => h.toLowerCase() === host);
}

/**
 * True only for what an app gateway's Launch opens: `http://localhost:PORT/` with an explicit
 * port and nothing else (no userinfo, path, query or fragment). main builds that URL from the
 * gateway's own port; the check keeps shell.openExternal from ever taking anything wider.
 */
export function isLocalGatewayUrl(url: string): boolean {
  const u = parse(url);
  if (!u || u.protocol !== 'http:' || u.hostname !== 'localhost' || u.port === '') return false;
  return u.username === '' && u.password === '' && u.pathname === '/' && u.search === '' && u.hash === '';
}

export type NavigationDecision = { action: 'allow' } | { action: 'deny' } | { action: 'open-external'; url: string };

/**
 * will-navigate: the window may only (re)load the app itself. An allowed external link opens in
 * the OS browser instead; everything else (other files, data:, javascript:, other sites) is denied.
 */
export function decideNavigation(
  target: string,
  appIndexUrl: string,
  allowedHosts: readonly string[] = DEFAULT_EXTERNAL_HOSTS,
): NavigationDecision {
  if (isAppUrl(target, appIndexUrl)) return { action: 'allow' };
  if (isAllowedExternalUrl(target, allowedHosts)) return { action: 'open-external', url: new URL(target).href };
  return { action: 'deny' };
}

/** window.open / target=_blank: never a new Electron window; allowed links go to the OS browser. */
export function decideWindowOpen(
  target: string,
  allowedHosts: readonly string[] = DEFAULT_EXTERNAL_HOSTS,
): Exclude<NavigationDecision, { action: 'allow' }> {
  if (isAllowedExternalUrl(target, allowedHosts)) return { action: 'open-external', url: new URL(target).href };
  return { action: 'deny' };
}

/**
 * Response headers for an app page with our CSP, replacing any CSP already present whatever its
 * header-name casing (two CSP headers would both apply, and the looser one is not what we ship).
 */
export function withAppCsp(
  headers: Record<string, string[] | string> | undefined,
  csp: string = APP_CSP,
): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (name.toLowerCase() === 'content-security-policy') continue;
    out[name] = Array.isArray(value) ? value : [value];
  }
  out['Content-Security-Policy'] = [csp];
  return out;
}

/** DevTools only in a development checkout (not packaged) and only when asked for. */
export function devToolsEnabled(isPackaged: boolean, env: Record<string, string | undefined>): boolean {
  return !isPackaged && env.GATEHOUSE_DEV === '1';
}
