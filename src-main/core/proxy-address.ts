// Proxy addresses as users type them ("proxy.example.com", "127.0.0.1:3080", "[::1]:3080")
// and one canonical "host:port" form that keys profiles and pins.
import { isIP } from 'node:net';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

export const DEFAULT_PROXY_PORT = 3080;

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

/** TLS options that make Node check the server certificate against this host. */
export function serverNameFor(addr: ProxyAddress): { servername?: string } {
  // SNI must not carry an IP address (RFC 6066); Node checks IP SANs without it.
  return isIP(addr.host) ? {} : { servername: addr.host };
}
