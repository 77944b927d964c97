// The Prometheus metrics of one gatehouse process, in a registry the composition root creates and
// passes in: no prom-client default (global) registry, so two daemons in one test process, or a
// bench measuring with and without instrumentation, never share or double-register series.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Session kinds the access services report (node: ssh, db service: db, app service: app). */
export const SESSION_KINDS = ['ssh', 'db', 'app'] as const;
export type SessionKind = (typeof SESSION_KINDS)[number];

export type Outcome = 'success' | 'failure';

/**
 * Storage calls take well under a millisecond on SQLite and a few on PostgreSQL over a network;
 * the buckets span 100 µs to 2.5 s so both backends and their slow tails show.
 */
const BACKEND_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 2.5];
/** Watch delivery: from sub-millisecond in one process to the 1 s goal across servers and beyond. */
const WATCH_LAG_BUCKETS_SECONDS = [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class ProcessMetrics {
  readonly registry = new Registry();
  readonly logins: Counter<'result'>;
  readonly deviceAuthentications: Counter<'result'>;
  readonly activeSessions: Gauge<'kind'>;
  readonly backendDuration: Histogram<'op' | 'result'>;
  readonly watcherLag: Histogram<'writer'>;
  /** Filled at scrape time by whoever knows (the metered backend's watchers). */
  readonly watcherRevisionsBehind: Gauge;
  readonly #revisionsBehindSources: (() => number)[] = [];

  constructor(version: string, opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.logins = new Counter({
      name: 'gatehouse_logins_total',
      help: 'Password logins handled by this auth server, by result',
      labelNames: ['result'],
      registers,
    });
    this.deviceAuthentications = new Counter({
      name: 'gatehouse_device_authentications_total',
      help: 'Device authentication ceremonies handled by this auth server, by result',
      labelNames: ['result'],
      registers,
    });
    this.activeSessions = new Gauge({
      name: 'gatehouse_active_sessions',
      help: 'Sessions open right now on this process, by kind (ssh, db, app)',
      labelNames: ['kind'],
      registers,
    });
    // Every kind shows as 0 from the start, so a dashboard sees "none" rather than "no data".
    for (const kind of SESSION_KINDS) this.activeSessions.set({ kind }, 0);
    for (const result of ['success', 'failure']) {
      this.logins.inc({ result }, 0);
      this.deviceAuthentications.inc({ result }, 0);
    }
    this.backendDuration = new Histogram({
      name: 'gatehouse_backend_operation_duration_seconds',
      help: 'Time of each storage backend call, by operation and result (ok or error)',
      labelNames: ['op', 'result'],
      buckets: BACKEND_BUCKETS_SECONDS,
      registers,
    });
    this.watcherLag = new Histogram({
      name: 'gatehouse_watcher_lag_seconds',
      help:
        "Seconds from a write's commit to its delivery to a storage watcher, by writer: this_process, or " +
        "another_process (another auth server on the same database; timed from the change feed's commit time)",
      labelNames: ['writer'],
      buckets: WATCH_LAG_BUCKETS_SECONDS,
      registers,
    });
    for (const writer of ['this_process', 'another_process']) this.watcherLag.zero({ writer });
    const sources = this.#revisionsBehindSources;
    this.watcherRevisionsBehind = new Gauge({
      name: 'gatehouse_watcher_revisions_behind',
      help: 'Revisions the slowest storage watcher has yet to deliver (highest revision seen minus its last delivered)',
      registers,
      collect() {
        this.set(sources.reduce((max, source) => Math.max(max, source()), 0));
      },
    });
    new Gauge({
      name: 'gatehouse_build_info',
      help: 'Always 1; the version label says which gatehouse this process runs',
      labelNames: ['version'],
      registers,
    }).set({ version }, 1);
    // Standard names (process_cpu_seconds_total, nodejs_heap_size_used_bytes, ...) without our
    // prefix: existing Node.js dashboards and alerts know them by those names.
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** A source of "revisions behind" read at each scrape (the largest wins). */
  addRevisionsBehindSource(source: () => number): void {
    this.#revisionsBehindSources.push(source);
  }

  /** The exposition text and its content type, for GET /metrics. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
