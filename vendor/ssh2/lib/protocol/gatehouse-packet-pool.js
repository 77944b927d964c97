// Gatehouse addition (VENDOR.md, change `packet-pool`): reusable output buffers for bulk SSH
// packets.
//
// Why: every outgoing CHANNEL_DATA packet used to be a fresh Buffer.allocUnsafe of up to 64 KiB.
// Buffers that size live outside the V8 heap, and V8 answers each ~64 MiB of new external memory
// with a full mark-compact of the whole heap: while streaming, the gatehouse daemon (a heap of
// ~40 MB) ran one every ~100 ms. Half of its external allocation was these packets (the other
// half is libuv's reads of the program's output, which Node owns).
//
// A buffer is reused only after the socket said it is done with it: the cipher passes a release
// callback with the encrypted packet, and the connection passes it to socket.write() only when
// the socket is a handle-backed net.Socket (TCP, pipe, or TLS: the write callback then means
// the kernel or OpenSSL has the bytes). Any other stream (a PassThrough hands the very same
// buffer to its reader) never calls the release, so its packets are never reused.
'use strict';

/** Largest packet the pool serves: a 64 KiB channel payload plus headers, padding and tag. */
const POOLED_PACKET_BYTES = 64 * 1024 + 128;
/** Smaller packets are not worth a pooled 64 KiB buffer (and come from Node's own pool). */
const MIN_POOLED_PACKET_BYTES = 16 * 1024;
/** Idle buffers kept per connection: bounds what a quiet connection holds (4 x 64 KiB). */
const MAX_FREE_BUFFERS = 4;

class PacketPool {
  constructor() {
    this._free = [];
    // The ArrayBuffers this pool made: only those go back into it.
    this._owned = new WeakSet();
    this._dead = false;
  }

  /** A buffer of exactly `size` bytes; pooled when the size is in the pool's range. */
  alloc(size) {
    if (size < MIN_POOLED_PACKET_BYTES || size > POOLED_PACKET_BYTES)
      return Buffer.allocUnsafe(size);
    let buf = this._free.pop();
    if (buf === undefined) {
      buf = Buffer.allocUnsafe(POOLED_PACKET_BYTES);
      this._owned.add(buf.buffer);
    }
    return buf.subarray(0, size);
  }

  /**
   * Called with each packet as it is written out: a callback that returns a pooled packet's
   * buffer to the pool (the socket calls it once done with the bytes; a socket that cannot say
   * so never calls it, and the buffer is simply dropped), undefined for any other buffer.
   */
  releaserFor(packet) {
    if (this._dead || !this._owned.has(packet.buffer))
      return undefined;
    const whole = Buffer.from(packet.buffer, 0, POOLED_PACKET_BYTES);
    return () => {
      if (!this._dead && this._free.length < MAX_FREE_BUFFERS)
        this._free.push(whole);
    };
  }

  /** The cipher is done (rekey or close): keep nothing. */
  free() {
    this._dead = true;
    this._free = [];
  }
}

/**
 * Writes `data` to `socket`; with `onReleased`, the socket calls it once it no longer needs the
 * bytes (only for handle-backed net.Socket instances, see above).
 */
function writePacket(socket, data, onReleased) {
  if (onReleased !== undefined && socket._handle && isNetSocket(socket))
    socket.write(data, onReleased);
  else
    socket.write(data);
}

let NetSocket;
function isNetSocket(socket) {
  if (NetSocket === undefined)
    NetSocket = require('net').Socket;
  return socket instanceof NetSocket;
}

module.exports = {
  PacketPool,
  writePacket,
  POOLED_PACKET_BYTES,
  MIN_POOLED_PACKET_BYTES,
  MAX_FREE_BUFFERS,
};
