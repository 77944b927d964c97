// HOST:PORT addresses as config files, flags and heartbeats carry them ("[::1]:3080" for IPv6).
// Shared because the cluster's listeners, its joined services and the CLIs all split them.
import { ErrorCode, GatehouseError } from './errors.ts';

/** "host:port" → [host, port]; IPv6 brackets are removed. A missing port is a CONFIG error. */
export function splitHostPort(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  if (i <= 0) throw new GatehouseError(ErrorCode.CONFIG, `address "${address}" lacks a port`);
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), address.slice(i + 1)];
}
