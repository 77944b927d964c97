// Copies bytes between two streams with back-pressure. The proxy relays client ⇄ node with it and
// the desktop's local gateways relay local client ⇄ proxy tunnel, so both ends of a connection
// share one rule for how much may queue before the reader is paused.
import type { Duplex } from 'node:stream';

/** Bytes a relay lets queue in the writer before it pauses the reader (see BENCHMARKS.md). */
export const DEFAULT_RELAY_QUEUE_LIMIT = 1 << 20;

/**
 * Copies `from` → `to` and ends `to` when `from` ends. Unlike pipe(), which pauses the reader
 * whenever the writer holds more than its 16 KiB highWaterMark, it lets up to `limit` bytes
 * queue: with pipe()'s default an SSH stream through the proxy spent most of its time paused.
 * The reader is paused once the writer holds `limit` bytes and resumed on 'drain', so a slow
 * consumer bounds memory at about `limit` plus one chunk per direction.
 */
export function relayBytes(from: Duplex, to: Duplex, limit = DEFAULT_RELAY_QUEUE_LIMIT): void {
  from.on('data', (chunk: Buffer) => {
    if (!to.write(chunk) && to.writableLength >= limit && !from.isPaused()) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
  from.once('end', () => to.end());
  // A routing handshake may have left the reader paused; a 'data' listener alone does not resume.
  from.resume();
}

/** How long a relay's other side may take to flush after its peer closed cleanly. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;

/**
 * Ends `to` when `from` closes: on an error at once, after a clean close by ending it so that
 * what it was already handed (a database's last error, an SSH disconnect message) is flushed,
 * then destroying it if it has not closed within `graceMs`. Destroying at once, as the relays
 * did, threw away a lock's FATAL still queued in the TLS writer.
 */
export function closeWithPeer(from: Duplex, to: Duplex, graceMs = DEFAULT_CLOSE_GRACE_MS): void {
  from.once('close', (hadError?: boolean) => {
    if (to.destroyed) return;
    if (hadError || from.errored) {
      to.destroy();
      return;
    }
    to.end();
    const timer = setTimeout(() => to.destroy(), graceMs);
    timer.unref();
    to.once('close', () => clearTimeout(timer));
  });
}
