// Exponential backoff with full jitter for a service reconnecting to auth. Bounded on both ends:
// the first retry comes quickly (an auth restart should cost new logins well under 2 s), the
// longest wait is capped so a service notices auth's return within `maxMs`, and the jitter
// spreads a fleet of services so they do not all reconnect in the same instant.
export interface BackoffOptions {
  /** The first wait's upper bound. */
  initialMs?: number;
  /** No wait is longer than this. */
  maxMs?: number;
  /** Source of randomness in [0, 1); injectable so tests can pin it. */
  random?: () => number;
}

export const DEFAULT_BACKOFF_INITIAL_MS = 100;
export const DEFAULT_BACKOFF_MAX_MS = 5_000;

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? DEFAULT_BACKOFF_INITIAL_MS;
    this.#maxMs = options.maxMs ?? DEFAULT_BACKOFF_MAX_MS;
    this.#random = options.random ?? Math.random;
    if (!(this.#initialMs > 0) || !(this.#maxMs >= this.#initialMs)) {
      throw new RangeError(`backoff needs 0 < initialMs <= maxMs (got ${this.#initialMs}, ${this.#maxMs})`);
    }
  }

  /** How many waits since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next wait: uniform in [ceiling/2, ceiling], the ceiling doubling per attempt up to maxMs. */
  next(): number {
    const ceiling = Math.min(this.#maxMs, this.#initialMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt++;
    return Math.round(ceiling / 2 + this.#random() * (ceiling / 2));
  }

  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (then resolves false). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
