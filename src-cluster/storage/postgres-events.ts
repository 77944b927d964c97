// Feeds a PostgresBackend's watchers from the `gatehouse_events` table. Every write transaction
// ends with NOTIFY carrying only its last revision (NOTIFY payloads are capped at 8000 bytes, a
// value is not), and the feed reads the events after the last one it delivered. Because writers
// serialise on the revision row, revisions are gap-free and commit in order: a gap means events
// were pruned before we read them, and the watchers must start over. When the LISTEN connection
// drops, the feed reconnects and replays from its last revision, so nothing in between is lost.
import pg from 'pg';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { matchesPrefixes, type Item, type Watcher } from './backend.ts';
import { QueuedWatcher } from './watch-queue.ts';

export const EVENTS_CHANNEL = 'gatehouse_events';
const READ_BATCH = 1000;

export interface PgEventFeedOptions {
  /** Config for the dedicated LISTEN connection (the pool's, with its own application_name). */
  listenConfig: pg.ClientConfig;
  /** Safety net beside NOTIFY: how often watchers also read the table (covers a silently dead LISTEN). */
  pollIntervalMs: number;
  /** Wait before re-opening a dropped LISTEN connection. */
  reconnectDelayMs: number;
  /** Watchers fail (re-create and re-read) when the table could not be read for this long. */
  maxStaleMs: number;
  maxBufferedEvents: number;
  now: () => number;
  onBackgroundError: (error: GatehouseError) => void;
}

interface EventRow {
  head: string;
  revision: string | null;
  type: 'put' | 'delete' | null;
  key: string | null;
  value: string | null;
  expires: string | null;
  created: string | null;
}

// One statement, so one snapshot: the head and the events cannot disagree. LIMIT 1 because the
// planner, without statistics for the one-row table, guessed 2200 rows, costed the join in the
// millions and JIT-compiled it: 400 ms per read once the events table had 10,000 rows.
const READ_EVENTS = `SELECT h.value AS head, e.revision, e.type, e.key, e.value, e.expires, e.created
  FROM (SELECT value FROM gatehouse_revision LIMIT 1) h
  LEFT JOIN LATERAL (
    SELECT revision, type, key, value, expires, created FROM gatehouse_events
    WHERE revision > $1 ORDER BY revision LIMIT $2
  ) e ON TRUE
  ORDER BY e.revision`;

function storageError(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.STORAGE, message);
}

export class PgEventFeed {
  readonly #pool: pg.Pool;
  readonly #options: PgEventFeedOptions;
  readonly #watchers = new Set<QueuedWatcher>();
  /** Created before the feed knew a current revision; get their init after the next read. */
  readonly #pending = new Set<QueuedWatcher>();
  #listener: pg.Client | undefined;
  #connecting: Promise<void> | undefined;
  #lastDelivered: number | undefined;
  #reading: Promise<void> | undefined;
  #readAgain = false;
  #lastReadOk = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(pool: pg.Pool, options: PgEventFeedOptions) {
    this.#pool = pool;
    this.#options = options;
  }

  get watcherCount(): number {
    return this.#watchers.size + this.#pending.size;
  }

  /** The LISTEN connection's server process id (tests terminate it to prove resync). */
  get listenerPid(): number | undefined {
    return (this.#listener as unknown as { processID?: number } | undefined)?.processID;
  }

  watch(prefixes: string[]): Watcher {
    if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== 'string')) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, 'watch prefixes must be a list of strings');
    }
    const watcher = new QueuedWatcher({
      prefixes,
      maxBuffered: this.#options.maxBufferedEvents,
      onClose: (w) => this.#forget(w),
    });
    this.#pending.add(watcher);
    this.#ensureListening();
    this.#requestRead();
    this.#schedule();
    return watcher;
  }

  /** After a local commit of revisions up to `last` touching `keys`: deliver without waiting for NOTIFY. */
  notifyLocalWrite(first: number, last: number, keys: string[]): void {
    if (this.watcherCount === 0) return;
    // Watchers still waiting for their first read: that read, or the next, includes this write.
    if (this.#lastDelivered === undefined) return this.#requestRead();
    const watchers = [...this.#watchers, ...this.#pending];
    const unwatched = keys.every((key) => !watchers.some((w) => matchesPrefixes(key, w.prefixes)));
    // An audit batch nobody watches only moves the delivered revision on.
    if (unwatched && !this.#reading && first === this.#lastDelivered + 1) this.#lastDelivered = last;
    else this.#requestRead();
  }

  close(): void {
    this.#closed = true;
    this.#stopTimer();
    for (const watcher of [...this.#watchers, ...this.#pending]) watcher.close();
    this.#dropListener();
  }

  #forget(watcher: QueuedWatcher): void {
    this.#watchers.delete(watcher);
    this.#pending.delete(watcher);
    if (this.watcherCount === 0) {
      this.#stopTimer();
      this.#dropListener();
      // Nobody listens now, so a later watcher starts from the head, not from here.
      this.#lastDelivered = undefined;
    }
  }

  #dropListener(): void {
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.removeAllListeners('notification');
    listener?.end().catch(() => undefined);
  }

  #ensureListening(): void {
    if (this.#listener || this.#connecting || this.#closed) return;
    this.#connecting = this.#listen().finally(() => (this.#connecting = undefined));
  }

  async #listen(): Promise<void> {
    const client = new pg.Client(this.#options.listenConfig);
    // A dropped connection: forget it and come back; the read after LISTEN replays what was missed.
    const dropped = () => {
      if (this.#listener !== client) return;
      this.#listener = undefined;
      if (this.#closed || this.watcherCount === 0) return;
      setTimeout(() => this.#ensureListening(), this.#options.reconnectDelayMs).unref();
    };
    client.on('error', (e: Error) => {
      this.#options.onBackgroundError(storageError(`storage watch connection failed: ${e.message}; reconnecting`));
      dropped();
    });
    client.on('end', dropped);
    client.on('notification', (msg) => {
      const revision = Number(msg.payload);
      if (this.#lastDelivered === undefined || !(revision <= this.#lastDelivered)) this.#requestRead();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (e) {
      client.end().catch(() => undefined);
      this.#options.onBackgroundError(
        storageError(`storage watch could not listen: ${e instanceof Error ? e.message : String(e)}; retrying`),
      );
      if (!this.#closed && this.watcherCount > 0) {
        setTimeout(() => this.#ensureListening(), this.#options.reconnectDelayMs).unref();
      }
      return;
    }
    if (this.#closed || this.watcherCount === 0) {
      client.end().catch(() => undefined);
      return;
    }
    this.#listener = client;
    // Anything committed while no LISTEN was active is in the table: read it now.
    this.#requestRead();
  }

  /** Serialises reads: one at a time, and one more after it when asked meanwhile. */
  #requestRead(): void {
    if (this.#closed) return;
    if (this.#reading) {
      this.#readAgain = true;
      return;
    }
    this.#reading = this.#readLoop().finally(() => (this.#reading = undefined));
  }

  async #readLoop(): Promise<void> {
    do {
      this.#readAgain = false;
      try {
        await this.#read();
        this.#lastReadOk = this.#options.now();
      } catch (e) {
        if (this.#closed) return;
        const message = e instanceof Error ? e.message : String(e);
        if (this.#lastReadOk > 0 && this.#options.now() - this.#lastReadOk > this.#options.maxStaleMs) {
          return this.#failAll(storageError(`storage watch could not read events: ${message}; re-create the watcher`));
        }
        // Transient (the database restarting): the next tick or NOTIFY tries again.
        this.#options.onBackgroundError(storageError(`storage watch read failed: ${message}; retrying`));
        return;
      }
    } while (this.#readAgain && !this.#closed);
  }

  async #read(): Promise<void> {
    for (;;) {
      // Nobody listened before: only the head is wanted, so ask for events after every revision.
      const after = this.#lastDelivered ?? Number.MAX_SAFE_INTEGER;
      const { rows } = await this.#pool.query<EventRow>(READ_EVENTS, [after, READ_BATCH]);
      if (this.#closed) return;
      const head = Number(rows[0]!.head);
      if (this.#lastDelivered === undefined) {
        // First read with nobody listening before: start from the head.
        this.#lastDelivered = head;
        return this.#promotePending();
      }
      const events = rows.filter((r) => r.revision !== null);
      if (events.length === 0 && head > this.#lastDelivered) return this.#failGap();
      for (const row of events) {
        const revision = Number(row.revision);
        if (revision !== this.#lastDelivered + 1) return this.#failGap();
        this.#lastDelivered = revision;
        const item: Item = { key: row.key!, value: row.value!, revision };
        if (row.expires !== null) item.expires = new Date(Number(row.expires));
        // `created`: the writer's clock at its write (gatehouse_write's p_now), for watcher lag.
        const event = { type: row.type!, item, committedAt: Number(row.created) };
        for (const watcher of [...this.#watchers]) watcher.deliver(event);
      }
      if (events.length < READ_BATCH) return this.#promotePending();
    }
  }

  /** New watchers start at the revision everything before has been delivered up to. */
  #promotePending(): void {
    for (const watcher of [...this.#pending]) {
      this.#pending.delete(watcher);
      this.#watchers.add(watcher);
      watcher.deliver({ type: 'init', revision: this.#lastDelivered! });
    }
  }

  #failGap(): void {
    this.#failAll(
      storageError(
        `storage events after revision ${this.#lastDelivered} were pruned before this process read them; re-create the watcher and re-read`,
      ),
    );
  }

  #failAll(error: GatehouseError): void {
    for (const watcher of [...this.#watchers, ...this.#pending]) watcher.fail(error);
  }

  #stopTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#timer || this.watcherCount === 0 || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#ensureListening();
      this.#requestRead();
      this.#schedule();
    }, this.#options.pollIntervalMs);
  }
}
