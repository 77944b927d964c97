// The browser host prints http://127.0.0.1:PORT/#token=TOKEN. The token authorises the WebSocket;
// it is taken out of the address bar right away (so it is not bookmarked, shared or shown), and
// kept in sessionStorage so a reload of the same tab still works. Pure string handling here.

/** Token from a location hash like `#token=abc` (other hash parameters are preserved). */
export function splitLaunchToken(hash: string): { token: string | undefined; restHash: string } {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const token = params.get('token') ?? undefined;
  params.delete('token');
  const rest = params.toString();
  return { token: token || undefined, restHash: rest ? `#${rest}` : '' };
}

/** The WebSocket address for a page served by the host at `pageUrl`. */
export function ipcSocketUrl(pageUrl: string, token: string): string {
  const url = new URL(pageUrl);
  const scheme = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${url.host}/ipc?token=${encodeURIComponent(token)}`;
}
