// The one place storage is instrumented: a Backend decorator that times every call into
// gatehouse_backend_operation_duration_seconds and measures watch delivery. Wrapping the interface
// (rather than each backend) keeps SQLite and PostgreSQL measured the same way, and lets a bench
// compare a login with and without it in one run.
import { performance } from 'node:perf_hooks';
import {
  matchesPrefixes,
  type Backend,
  type BatchOp,
  type DataMigration,
  type Item,
  type ItemInput,
  type Watcher,
  type WatchEvent,
} from '../storage/backend.ts';
import type { ProcessMetrics } from './metrics.ts';

/**
 * Commit times of this process's recent writes, by revision, so a watcher can tell how long
 * delivery took. Bounded: a watcher that far behind shows in revisions_behind instead.
 */
export const MAX_TRACKED_COMMITS = 10_000;

/** Keeps a revision map within MAX_TRACKED_COMMITS; Map keeps insertion order, so the first keys are the oldest. */
function evictOldest(map: Map<number, unknown>): void {
  for (const oldest of map.keys()) {
    if (map.size <= MAX_TRACKED_COMMITS) break;
    map.delete(oldest);
  }
}

/** Deliveries of one revision this process has not (yet) seen itself commit. */
interface EarlyDelivery {
  count: number;
  /** The change feed's commit time (ms since the epoch) and when the delivery was applied. */
  committedAt?: number;
  deliveredAt: number;
}

interface WatcherState {
  prefixes: readonly string[];
  /** The newest revision this process wrote under the watcher's prefixes. */
  written: number;
  delivered: number;
}

export class MeteredBackend implements Backend {
  readonly #commitTimes = new Map<number, number>();
  /**
   * Deliveries of revisions not (yet) known as this process's commits, by revision. SQLite's feed
   * hands a write to its watchers before the write call returns here; when that call then returns
   * the delivery counts as lag 0. One still unclaimed a turn of the event loop later is another
   * process's write (another auth server on PostgreSQL): its lag is from the commit time the change
   * feed carries, on the writer's clock (servers' clocks must agree, as for certificate validity).
   */
  readonly #deliveredFirst = new Map<number, EarlyDelivery>();
  readonly #watchers = new Set<WatcherState>();

  constructor(
    private readonly inner: Backend,
    private readonly metrics: ProcessMetrics,
  ) {
    metrics.addRevisionsBehindSource(() => this.revisionsBehind());
  }

  /**
   * How far the slowest live watcher is behind: the newest revision this process wrote under its
   * prefixes minus the last it delivered. Writes of other auth servers are not known here until
   * delivered, so across servers this shows only local writes (the lag histogram likewise).
   */
  revisionsBehind(): number {
    let behind = 0;
    for (const w of this.#watchers) behind = Math.max(behind, w.written - w.delivered);
    return behind;
  }

  async #timed<T>(op: string, call: () => Promise<T>): Promise<T> {
    const end = this.metrics.backendDuration.startTimer({ op });
    try {
      const out = await call();
      end({ result: 'ok' });
      return out;
    } catch (e) {
      end({ result: 'error' });
      throw e;
    }
  }

  #committed(items: readonly (Item | undefined)[]): void {
    const now = performance.now();
    for (const item of items) {
      if (!item) continue;
      const early = this.#deliveredFirst.get(item.revision);
      if (early !== undefined) {
        this.#deliveredFirst.delete(item.revision);
        for (let i = 0; i < early.count; i++) this.metrics.watcherLag.observe({ writer: 'this_process' }, 0);
      }
      this.#commitTimes.set(item.revision, now);
      for (const w of this.#watchers) {
        if (item.revision > w.written && matchesPrefixes(item.key, w.prefixes)) w.written = item.revision;
      }
    }
    evictOldest(this.#commitTimes);
  }

  get(key: string): Promise<Item | undefined> {
    return this.#timed('get', () => this.inner.get(key));
  }

  async put(item: ItemInput): Promise<Item> {
    const out = await this.#timed('put', () => this.inner.put(item));
    this.#committed([out]);
    return out;
  }

  async create(item: ItemInput): Promise<Item> {
    const out = await this.#timed('create', () => this.inner.create(item));
    this.#committed([out]);
    return out;
  }

  async compareAndSwap(expected: { key: string; revision: number }, replacement: ItemInput): Promise<Item> {
    const out = await this.#timed('compare_and_swap', () => this.inner.compareAndSwap(expected, replacement));
    this.#committed([out]);
    return out;
  }

  delete(key: string): Promise<void> {
    return this.#timed('delete', () => this.inner.delete(key));
  }

  async batch(ops: BatchOp[]): Promise<(Item | undefined)[]> {
    const out = await this.#timed('batch', () => this.inner.batch(ops));
    this.#committed(out);
    return out;
  }

  runDataMigration(migration: DataMigration): Promise<boolean> {
    return this.inner.runDataMigration(migration);
  }

  deleteRange(start: string, end: string): Promise<number> {
    return this.#timed('delete_range', () => this.inner.deleteRange(start, end));
  }

  listRange(start: string, end: string, limit?: number): Promise<Item[]> {
    return this.#timed('list_range', () => this.inner.listRange(start, end, limit));
  }

  listPrefix(prefix: string, limit?: number): Promise<Item[]> {
    return this.#timed('list_prefix', () => this.inner.listPrefix(prefix, limit));
  }

  watch(prefixes: string[]): Watcher {
    const inner = this.inner.watch(prefixes);
    const state: WatcherState = { prefixes: inner.prefixes, written: 0, delivered: 0 };
    const watchers = this.#watchers;
    const observe = (event: WatchEvent) => this.#delivered(state, event);
    watchers.add(state);
    return {
      prefixes: inner.prefixes,
      get closed() {
        return inner.closed;
      },
      close() {
        watchers.delete(state);
        inner.close();
      },
      async *[Symbol.asyncIterator]() {
        try {
          for await (const event of inner) {
            observe(event);
            yield event;
          }
        } finally {
          watchers.delete(state);
        }
      },
    };
  }

  #delivered(state: WatcherState, event: WatchEvent): void {
    const revision = event.type === 'init' ? event.revision : event.item.revision;
    state.delivered = Math.max(state.delivered, revision);
    state.written = Math.max(state.written, state.delivered);
    if (event.type === 'init') return;
    const committedAt = this.#commitTimes.get(revision);
    if (committedAt !== undefined) {
      this.metrics.watcherLag.observe({ writer: 'this_process' }, (performance.now() - committedAt) / 1000);
      return;
    }
    const early = this.#deliveredFirst.get(revision);
    if (early) early.count++;
    else {
      this.#deliveredFirst.set(revision, { count: 1, committedAt: event.committedAt, deliveredAt: Date.now() });
      evictOldest(this.#deliveredFirst);
      if (event.committedAt !== undefined) setImmediate(() => this.#deliveredFromElsewhere(revision));
    }
  }

  /** A delivery no local write claimed: another process wrote it; observe its cross-process lag. */
  #deliveredFromElsewhere(revision: number): void {
    const early = this.#deliveredFirst.get(revision);
    if (early?.committedAt === undefined) return;
    this.#deliveredFirst.delete(revision);
    // Clocks of two servers can disagree by a little: a negative lag is counted as none.
    const lagSeconds = Math.max(0, early.deliveredAt - early.committedAt) / 1000;
    for (let i = 0; i < early.count; i++) this.metrics.watcherLag.observe({ writer: 'another_process' }, lagSeconds);
  }

  close(): Promise<void> {
    this.#watchers.clear();
    return this.inner.close();
  }
}
