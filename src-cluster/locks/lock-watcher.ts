// A service's own view of the cluster's locks: read once, then kept current by the storage watch
// (which also carries writes made by other processes on the same database). Checks are answered
// from memory, so every SSH channel and certificate issuance can ask without touching storage.
// When the watch breaks the view may be missing locks: the cluster's locking_mode decides whether
// that refuses everything (strict) or keeps the last view with a warning (best_effort), and the
// watcher keeps trying to re-establish itself.
import type { Logger } from '../log/logger.ts';
import { lockMessage, lockTargetText, type LockSpec } from '../resources/lock.ts';
import type { LockingMode } from '../resources/cluster-auth-preference.ts';
import type { Resource, ResourceStore } from '../storage/resources.ts';
import {
  lockMatches,
  UNRELIABLE_LOCK_VIEW,
  type LockCheck,
  type LockChecker,
  type LockFeed,
  type LockNotice,
  type LockTarget,
} from './lock-targets.ts';

export type StoredLock = Resource<LockSpec>;

export interface LockWatcherOptions {
  store: ResourceStore<LockSpec>;
  log: Logger;
  /** Read per check, so an admin's change of the mode applies at once. */
  lockingMode: () => LockingMode;
  /** Wait between attempts to re-establish a broken watch. */
  retryMs?: number;
  now?: () => number;
  /**
   * For a service whose lock store is a copy of auth's (src-cluster/service/): false while that
   * copy is not being kept current (auth unreachable). The local watch never breaks then, but
   * locks created meanwhile are missing, so the view counts as unreliable like a broken watch.
   */
  upstreamConnected?: () => boolean;
}

export type LockListener = (lock: LockNotice) => void;

export class LockWatcher implements LockChecker, LockFeed {
  readonly #store: ResourceStore<LockSpec>;
  readonly #log: Logger;
  readonly #lockingMode: () => LockingMode;
  readonly #retryMs: number;
  readonly #now: () => number;
  readonly #locks = new Map<string, StoredLock>();
  readonly #listeners = new Set<LockListener>();
  #healthy = false;
  #warnedUnreliable = false;
  #brokenLogged = false;
  #loadedOnce = false;
  #closed = false;
  #watcher: { close(): void } | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #ready: Promise<void>;
  #markReady!: () => void;
  readonly #upstreamConnected: () => boolean;

  constructor(options: LockWatcherOptions) {
    this.#upstreamConnected = options.upstreamConnected ?? (() => true);
    this.#store = options.store;
    this.#log = options.log;
    this.#lockingMode = options.lockingMode;
    this.#retryMs = options.retryMs ?? 500;
    this.#now = options.now ?? Date.now;
    this.#ready = new Promise((resolve) => (this.#markReady = resolve));
  }

  /** Starts following the store; resolves once the first full view is loaded (or the first attempt failed). */
  start(): Promise<void> {
    void this.#run();
    return this.#ready;
  }

  /** False until the first view is loaded, while the watch is broken, and while the copy is cut off from auth. */
  get healthy(): boolean {
    return this.#healthy && this.#upstreamConnected();
  }

  /** Locks in the view that have not expired. */
  locks(): StoredLock[] {
    return [...this.#locks.values()].filter((l) => this.#inForce(l));
  }

  /** The first lock in force matching any of `targets` (expired ones never match). */
  inForce(targets: readonly LockTarget[]): StoredLock | undefined {
    for (const lock of this.#locks.values()) {
      if (this.#inForce(lock) && lockMatches(lock.spec, targets)) return lock;
    }
    return undefined;
  }

  check(targets: readonly LockTarget[]): LockCheck {
    if (!this.healthy) {
      if (this.#lockingMode() === 'strict') return { locked: true, message: UNRELIABLE_LOCK_VIEW };
      if (!this.#warnedUnreliable) {
        this.#warnedUnreliable = true;
        this.#log.warn('lock view is unreliable; locking_mode best_effort keeps using the last known locks', {
          locks: this.#locks.size,
        });
      }
    }
    const lock = this.inForce(targets);
    if (!lock) return { locked: false };
    return {
      locked: true,
      message: lockMessage(lock.spec),
      lockName: lock.metadata.name,
      target: lockTargetText(lock.spec),
      ...(lock.spec.message ? { lockMessage: lock.spec.message } : {}),
    };
  }

  /** Called for every lock that appears or changes while it is in force; returns an unsubscribe. */
  subscribe(listener: LockListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    this.#healthy = false;
    this.#watcher?.close();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#wake?.();
    this.#markReady();
  }

  #inForce(lock: StoredLock): boolean {
    const expires = lock.spec.expires;
    return expires === undefined || Date.parse(expires) > this.#now();
  }

  async #run(): Promise<void> {
    while (!this.#closed) {
      try {
        const watcher = this.#store.watch();
        this.#watcher = watcher;
        for await (const event of watcher) {
          if (event.type === 'init') {
            // Watch first, then read: anything written after the read is still delivered.
            await this.#reload();
          } else if (event.type === 'put') {
            this.#put(event.resource);
          } else {
            this.#locks.delete(event.name);
            this.#logApplied(event.name, 'delete');
          }
        }
        if (this.#closed) return;
        this.#broken(new Error('the storage watch ended'));
      } catch (e) {
        if (this.#closed) return;
        this.#broken(e as Error);
      }
      this.#markReady();
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        this.#retryTimer = setTimeout(resolve, this.#retryMs);
        this.#retryTimer.unref();
      });
    }
  }

  async #reload(): Promise<void> {
    const all = await this.#store.list();
    const before = new Set(this.#locks.keys());
    this.#locks.clear();
    for (const lock of all) this.#locks.set(lock.metadata.name, lock);
    // A change the reload took in is not replayed as an event: log it as the event would be.
    for (const name of before) if (!this.#locks.has(name)) this.#logApplied(name, 'delete');
    for (const name of this.#locks.keys()) this.#logApplied(name, 'put');
    if (this.#loadedOnce && !this.#healthy) this.#log.info('lock view restored', { locks: this.#locks.size });
    this.#loadedOnce = true;
    this.#healthy = true;
    this.#warnedUnreliable = false;
    this.#brokenLogged = false;
    this.#markReady();
    // Locks written while the view was broken never reached the listeners.
    for (const lock of this.locks()) this.#notify(lock);
  }

  #put(lock: StoredLock): void {
    const known = this.#locks.get(lock.metadata.name);
    // The reload may already hold a newer state than a replayed event.
    if (known && (known.metadata.revision ?? 0) >= (lock.metadata.revision ?? 0)) return;
    this.#locks.set(lock.metadata.name, lock);
    this.#logApplied(lock.metadata.name, 'put');
    if (this.#inForce(lock)) this.#notify(lock);
  }

  /** Checks answer from the view as changed from now on; tests wait for this line before relying on a lock. */
  #logApplied(name: string, type: 'put' | 'delete'): void {
    this.#log.debug('lock view applied', { name, type });
  }

  #notify(lock: StoredLock): void {
    const notice: LockNotice = {
      name: lock.metadata.name,
      message: lockMessage(lock.spec),
      matches: (targets) => this.#inForce(lock) && lockMatches(lock.spec, targets),
    };
    for (const listener of [...this.#listeners]) {
      try {
        listener(notice);
      } catch (e) {
        this.#log.error('lock listener failed', { lock: lock.metadata.name, error: (e as Error).message });
      }
    }
  }

  #broken(error: Error): void {
    this.#healthy = false;
    if (!this.#brokenLogged) {
      this.#brokenLogged = true;
      this.#log.warn('lock view became unreliable; re-establishing the storage watch', {
        error: error.message,
        locking_mode: this.#lockingMode(),
      });
    }
  }
}
