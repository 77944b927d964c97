// Proxy addresses as users type them ("proxy.example.com", "127.0.0.1:3080", "[::1]:3080")
// and one canonical "host:port" form that keys profiles and pins.
import { isIP } from 'node:net';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

export const DEFAULT_PROXY_PORT = 3080;
/** More than this in one profile is a typo or a list that belongs behind a load balancer. */
export const MAX_PROXIES_PER_PROFILE = 8;

export interface ProxyAddress {
  /** Host name or IP, without IPv6 brackets. */
  host: string;
  port: number;
  /** Canonical "host:port" ("[v6]:port" for IPv6), lower-cased host. */
  address: string;
}

export function parseProxyAddress(input: string): ProxyAddress {
  let text = input.trim();
  // Users paste URLs from docs or a browser bar.
  text = text.replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  if (!text) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'the proxy address is empty');
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else if ((text.match(/:/g) ?? []).length > 1) {
    host = text; // a bare IPv6 address: no port can follow without brackets
  } else {
    const i = text.lastIndexOf(':');
    host = i >= 0 ? text.slice(0, i) : text;
    portText = i >= 0 ? text.slice(i + 1) : undefined;
  }
  host = host.toLowerCase();
  if (!host || /[\s/@]/.test(host) || (host.includes(':') && isIP(host) !== 6)) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `"${input}" is not a proxy address (expected host or host:port)`);
  }
  let port = DEFAULT_PROXY_PORT;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `"${input}" has an invalid port`);
    }
  }
  const address = isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, address };
}

/**
 * "a:3080,b:3080" (or one address) as canonical proxy addresses, first one first, no repeats.
 * Every address that does not parse is named in one BAD_REQUEST (details.invalid: each input
 * with its reason), so a person fixing a list of several sees all its mistakes at once.
 */
export function parseProxyList(input: string): ProxyAddress[] {
  const seen = new Map<string, ProxyAddress>();
  const invalid: { address: string; reason: string }[] = [];
  for (const part of input.split(',')) {
    if (!part.trim()) continue;
    try {
      const p = parseProxyAddress(part.trim());
      if (!seen.has(p.address)) seen.set(p.address, p);
    } catch (e) {
      invalid.push({ address: part.trim(), reason: (e as Error).message });
    }
  }
  if (invalid.length > 0) {
    const what = invalid.length === 1 ? invalid[0]!.reason : invalid.map((i) => i.reason).join('; ');
    throw new GatehouseError(ErrorCode.BAD_REQUEST, what, { invalid });
  }
  if (seen.size === 0) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'the proxy address is empty');
  if (seen.size > MAX_PROXIES_PER_PROFILE) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `${seen.size} proxy addresses given; at most ${MAX_PROXIES_PER_PROFILE} (put more behind one load-balanced name)`,
    );
  }
  return [...seen.values()];
}

/** TLS options that make Node check the server certificate against this host. */
export function serverNameFor(addr: ProxyAddress): { servername?: string } {
  // SNI must not carry an IP address (RFC 6066); Node checks IP SANs without it.
  return isIP(addr.host) ? {} : { servername: addr.host };
}
