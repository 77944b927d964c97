// TLS reads into one reused buffer, for the tunnel that carries `gate ssh`'s SSH stream.
//
// Why: a TLS socket hands its reader at most 16 KiB of plaintext per read, each in a freshly
// allocated Buffer outside the V8 heap: 16,384 of them per 256 MiB streamed, which the garbage
// collector then has to free. With Node's `onread` option the socket reads into one buffer
// instead, and the vendored ssh2 parses straight from it (Protocol.parseTransient: its AES-GCM
// decipher copies whatever it keeps, anything else gets a copy; VENDOR.md "transient-input").
// Measured: BENCHMARKS.md "Issue 16: SSH stream (third pass)".
//
// Until ssh2 takes the reads over, and whenever bytes wait in the socket's readable buffer
// (the routing reply's reader unshifts what follows it), each read is copied into a Buffer and
// pushed as any socket read would be, so 'data', pause(), unshift() and the order of bytes are
// as without this.
import type * as net from 'node:net';
import type * as tls from 'node:tls';

/** One TLS read is at most one 16 KiB record; a larger buffer would only sit unused. */
export const REUSED_READ_BUFFER_BYTES = 16 * 1024;

/** Takes `len` bytes at the start of `buf`; keeps no view of `buf` after it returns. */
export type TransientReadSink = (buf: Buffer, len: number) => void;

/** What the vendored ssh2 client looks for on its socket (`gatehouseTakeReads`). */
export interface TakesTransientReads {
  gatehouseTakeReads(sink: TransientReadSink): void;
}

/**
 * The `onread` option for tls.connect and the step that, once the socket exists, lets ssh2
 * take its reads over. `attach` must run before the socket's first read (synchronously after
 * tls.connect).
 */
export function reusedReads(bytes = REUSED_READ_BUFFER_BYTES): {
  /** net.Socket's `onread` option, which TLS sockets honour too (their types omit it). */
  onread: net.OnReadOpts;
  attach(socket: tls.TLSSocket): void;
} {
  let socket: tls.TLSSocket | undefined;
  let sink: TransientReadSink | undefined;
  const onread = {
    // Its own memory, not a slice of Node's shared pool for small Buffers.
    buffer: Buffer.allocUnsafeSlow(bytes),
    callback(len: number, buf: Uint8Array): boolean {
      const s = socket!;
      if (sink && s.readableLength === 0) {
        sink(buf as Buffer, len);
        return true;
      }
      // false stops reading until the stream asks for more, as for a socket's own reads.
      return s.push(Buffer.from(buf.subarray(0, len)));
    },
  };
  return {
    onread,
    attach(s) {
      socket = s;
      (s as tls.TLSSocket & TakesTransientReads).gatehouseTakeReads = (take) => (sink = take);
    },
  };
}
