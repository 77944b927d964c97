// Caps the connections open at once from one source address, on a raw listener's accept, before
// any TLS or SSH byte is processed. Both the proxy and the node put one on their listener.
import type { Socket } from 'node:net';
import type { Logger } from '../log/logger.ts';

/** How often a source over its cap is logged (one line per source per interval, not per socket). */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

export class SourceLimiter {
  private readonly open = new Map<string, number>();
  private readonly lastLogged = new Map<string, number>();

  constructor(
    private readonly maxPerSource: number,
    private readonly log: Logger,
    private readonly listener: string,
  ) {}

  /** Counts the socket until it closes; destroys it (and returns false) when its source is at the cap. */
  admit(socket: Socket): boolean {
    const source = socket.remoteAddress ?? 'unknown';
    const count = this.open.get(source) ?? 0;
    if (count >= this.maxPerSource) {
      socket.destroy();
      this.logRefusal(source);
      return false;
    }
    this.open.set(source, count + 1);
    socket.once('close', () => {
      const left = (this.open.get(source) ?? 1) - 1;
      if (left <= 0) this.open.delete(source);
      else this.open.set(source, left);
    });
    return true;
  }

  /** Open connections from `source` right now. */
  count(source: string): number {
    return this.open.get(source) ?? 0;
  }

  private logRefusal(source: string): void {
    const now = Date.now();
    if (now - (this.lastLogged.get(source) ?? 0) < REFUSAL_LOG_INTERVAL_MS) return;
    this.lastLogged.set(source, now);
    if (this.lastLogged.size > 10_000) this.lastLogged.clear();
    this.log.warn('connection refused: too many open connections from this address', {
      listener: this.listener,
      client: source,
      limit: this.maxPerSource,
    });
  }
}
