// What people paste into "Proxy address" is often a URL (https://proxy.example.com:3080/). Main
// wants HOST or HOST:PORT, so the renderer trims that down, and explains what's wrong instead of
// sending something main would refuse with a bare BAD_REQUEST. A cluster with several proxies is
// given as a comma-separated list (as `gate login --proxy a,b`); each address is checked and
// every bad one is named.

/** As many as a login profile holds (src-main/core/proxy-address.ts MAX_PROXIES_PER_PROFILE). */
export const MAX_CLUSTER_PROXIES = 8;

export type ProxyListCheck = { ok: true; addresses: string[] } | { ok: false; problem: string };

export type ProxyAddressCheck = { ok: true; address: string } | { ok: false; problem: string };

export function normalizeProxyAddress(raw: string): ProxyAddressCheck {
  let s = raw.trim();
  if (!s) return { ok: false, problem: 'Enter the proxy address, for example proxy.example.com:3080.' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  if (scheme) {
    if (!/^https?$/i.test(scheme[1]!)) {
      return { ok: false, problem: `Use the proxy's host and port, not a ${scheme[1]}:// address.` };
    }
    s = s.slice(scheme[0].length);
  }
  s = s.replace(/\/+$/, '');
  if (/\s/.test(s)) return { ok: false, problem: 'The proxy address cannot contain spaces.' };
  if (s.includes('/')) {
    return { ok: false, problem: 'Enter only the host and port (like proxy.example.com:3080), without a path.' };
  }
  const port = /:(\d*)$/.exec(s);
  if (port && !/^\d+$/.test(port[1]!)) return { ok: false, problem: 'The port after ":" is missing.' };
  if (port && (Number(port[1]) < 1 || Number(port[1]) > 65535)) {
    return { ok: false, problem: 'The port must be a number from 1 to 65535.' };
  }
  if (s.length > 300) return { ok: false, problem: 'That proxy address is too long.' };
  if (!s || s.startsWith(':')) return { ok: false, problem: 'Enter the proxy host name before the port.' };
  return { ok: true, address: s };
}

/** "a:3080, https://b:3080/" → ["a:3080", "b:3080"]; each bad address named with its problem. */
export function normalizeProxyList(raw: string): ProxyListCheck {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length <= 1) {
    const one = normalizeProxyAddress(parts[0] ?? '');
    return one.ok ? { ok: true, addresses: [one.address] } : one;
  }
  const addresses: string[] = [];
  const problems: string[] = [];
  for (const part of parts) {
    const checked = normalizeProxyAddress(part);
    if (!checked.ok) problems.push(`“${part}”: ${checked.problem}`);
    else if (!addresses.includes(checked.address)) addresses.push(checked.address);
  }
  if (problems.length > 0) return { ok: false, problem: problems.join(' ') };
  if (addresses.length > MAX_CLUSTER_PROXIES) {
    return {
      ok: false,
      problem: `Enter at most ${MAX_CLUSTER_PROXIES} proxy addresses; ask your administrator for one load-balanced address instead.`,
    };
  }
  return { ok: true, addresses };
}
