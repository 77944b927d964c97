// Bench-only: counts what a client puts on the wire — TLS handshakes (client side, with their
// duration) and HTTP/2 requests (one per RPC, unary or stream) — by wrapping node:tls connect and
// node:http2 connect for this process. The bench reads the counters around one login to print
// "RPCs and handshakes per login"; nothing in the product loads this file.
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { performance } from 'node:perf_hooks';
import type * as Http2 from 'node:http2';
import type * as Tls from 'node:tls';

export interface WireEvent {
  kind: 'tls-handshake' | 'rpc';
  /** For rpc: the path (/gatehouse.v1.AuthService/Login); for tls: host:port. */
  what: string;
  /** performance.now() at the start (handshake) or when the request was sent (rpc). */
  at: number;
  /** Handshake duration (tls), request sent to stream closed (rpc). */
  ms?: number;
}

export class WireTrace {
  readonly events: WireEvent[] = [];

  /** Events from index `from` on, counted by kind. */
  countsSince(from: number): { handshakes: number; rpcs: number; paths: string[] } {
    const slice = this.events.slice(from);
    return {
      handshakes: slice.filter((e) => e.kind === 'tls-handshake').length,
      rpcs: slice.filter((e) => e.kind === 'rpc').length,
      paths: slice.filter((e) => e.kind === 'rpc').map((e) => e.what.replace(/^\/gatehouse\.v1\./, '')),
    };
  }
}

/** Starts counting for the whole process (call before the first connection is made). */
export function installWireTrace(): WireTrace {
  const trace = new WireTrace();
  const require = createRequire(import.meta.url);
  const tls = require('node:tls') as typeof Tls;
  const http2 = require('node:http2') as typeof Http2;
  const tlsConnect = tls.connect;
  (tls as { connect: unknown }).connect = function tracedConnect(this: unknown, ...args: unknown[]) {
    const started = performance.now();
    const socket = (tlsConnect as (...a: unknown[]) => Tls.TLSSocket).apply(this, args);
    socket.once('secureConnect', () => {
      trace.events.push({
        kind: 'tls-handshake',
        what: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
        at: started,
        ms: performance.now() - started,
      });
    });
    return socket;
  };
  const h2Connect = http2.connect;
  (http2 as { connect: unknown }).connect = function tracedH2Connect(this: unknown, ...args: unknown[]) {
    const session = (h2Connect as (...a: unknown[]) => Http2.ClientHttp2Session).apply(this, args);
    const request = session.request.bind(session);
    session.request = (headers, options) => {
      const event: WireEvent = {
        kind: 'rpc',
        what: String((headers as Record<string, unknown> | undefined)?.[':path'] ?? '?'),
        at: performance.now(),
      };
      trace.events.push(event);
      const stream = request(headers, options);
      stream.once('close', () => (event.ms = performance.now() - event.at));
      return stream;
    };
    return session;
  };
  syncBuiltinESMExports();
  return trace;
}
