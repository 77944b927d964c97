// The auth servers a joined service (proxy, node, db, app) may talk to, and which one it uses now.
// With several auth servers on one PostgreSQL any of them answers the same, so a service stays on
// one address while it works (one watch stream, one set of connections) and moves to the next in
// the list when a connect fails or its stream breaks. The watch loop, the audit emitter and the
// proxy's API forwarder share one instance, so they all move together and the log says so once.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Logger } from '../log/logger.ts';

/** More would only make a full round of the list (one attempt each) take longer than the back-off cap. */
export const MAX_AUTH_SERVERS = 16;

export class AuthAddresses {
  readonly #addresses: readonly string[];
  readonly #log: Logger;
  #index = 0;
  readonly #listeners: ((address: string) => void)[] = [];

  constructor(addresses: readonly string[], log: Logger) {
    const unique = [...new Set(addresses)];
    if (unique.length === 0) {
      throw new GatehouseError(ErrorCode.CONFIG, 'no auth server address given (auth_servers or --auth-server)');
    }
    if (unique.length > MAX_AUTH_SERVERS) {
      throw new GatehouseError(
        ErrorCode.CONFIG,
        `${unique.length} auth server addresses given; at most ${MAX_AUTH_SERVERS} (use a load-balanced name for more)`,
      );
    }
    this.#addresses = unique;
    this.#log = log;
  }

  /** The address calls go to now. */
  get current(): string {
    return this.#addresses[this.#index]!;
  }

  get all(): readonly string[] {
    return this.#addresses;
  }

  /** Hears each move (the runtime rebuilds its client for the new address). */
  onMove(listener: (address: string) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Moves on from `failed` because of `reason`. Callers that saw the same failure concurrently pass
   * the address they used, so a failure already acted upon (current moved on) does not skip a
   * healthy server. Returns the address to use next. With one address this stays put (the caller
   * still backs off).
   */
  failover(failed: string, reason: string): string {
    if (failed !== this.current || this.#addresses.length === 1) return this.current;
    this.#index = (this.#index + 1) % this.#addresses.length;
    this.#log.warn('auth server unreachable; failing over to the next auth address', {
      from: failed,
      to: this.current,
      reason,
    });
    for (const listener of this.#listeners) listener(this.current);
    return this.current;
  }
}
