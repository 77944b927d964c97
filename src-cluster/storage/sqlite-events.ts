// Feeds a SqliteBackend's watchers from the `events` table. Other processes sharing the file
// cannot signal us, so while anyone watches we poll by revision; our own writes trigger a
// read at once. Revisions are gap-free (one event per revision), so a gap means events were
// pruned before we read them and the watchers must start over.
import type Database from 'better-sqlite3';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { matchesPrefixes, type Item, type Watcher } from './backend.ts';
import { QueuedWatcher } from './watch-queue.ts';

const READ_BATCH = 1000;

/** One committed local write transaction: revisions first..last, the keys it wrote. */
export interface LocalWrite {
  first: number;
  last: number;
  keys: string[];
}

interface EventRow {
  revision: number;
  type: 'put' | 'delete';
  key: string;
  value: string;
  expires: number | null;
  created: number;
}

export interface SqliteEventFeedOptions {
  pollIntervalMs: number;
  maxBufferedEvents: number;
}

export class SqliteEventFeed {
  readonly #db: Database.Database;
  readonly #pollIntervalMs: number;
  readonly #maxBuffered: number;
  readonly #watchers = new Set<QueuedWatcher>();
  readonly #since: Database.Statement<[number, number], EventRow>;
  readonly #revision: Database.Statement<[], { value: number }>;
  #lastDelivered = 0;
  #dataVersion = -1;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Database.Database, options: SqliteEventFeedOptions) {
    this.#db = db;
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#maxBuffered = options.maxBufferedEvents;
    this.#since = db.prepare(
      'SELECT revision, type, key, value, expires, created FROM events WHERE revision > ? ORDER BY revision LIMIT ?',
    );
    this.#revision = db.prepare("SELECT value FROM meta WHERE name = 'revision'");
  }

  get watcherCount(): number {
    return this.#watchers.size;
  }

  watch(prefixes: string[]): Watcher {
    if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== 'string')) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, 'watch prefixes must be a list of strings');
    }
    if (this.#watchers.size === 0) {
      // Nobody was listening, so start from now. data_version first: a commit that lands
      // between the two reads changes it, and the next poll picks that commit up.
      this.#dataVersion = this.#readDataVersion();
      this.#lastDelivered = this.#revision.get()!.value;
    } else {
      // Bring the existing watchers up to date so the new one's start revision is current.
      this.#poll();
    }
    const watcher = new QueuedWatcher({
      prefixes,
      maxBuffered: this.#maxBuffered,
      onClose: (w) => this.#forget(w),
    });
    this.#watchers.add(watcher);
    watcher.deliver({ type: 'init', revision: this.#lastDelivered });
    this.#schedule();
    return watcher;
  }

  /**
   * Called after every committed local write: deliver without waiting for the poll. A write
   * that directly follows what was delivered and touches no watched key (an audit batch) only
   * moves the delivered revision on, instead of reading its events back to deliver nothing.
   */
  notifyLocalWrite(write: LocalWrite): void {
    if (this.#watchers.size === 0) return;
    const watchers = [...this.#watchers];
    const unwatched = write.keys.every((key) => !watchers.some((w) => matchesPrefixes(key, w.prefixes)));
    if (unwatched && write.first === this.#lastDelivered + 1) this.#lastDelivered = write.last;
    else this.#pollSafely(false);
  }

  close(): void {
    this.#stopTimer();
    for (const watcher of [...this.#watchers]) watcher.close();
  }

  #forget(watcher: QueuedWatcher): void {
    this.#watchers.delete(watcher);
    if (this.#watchers.size === 0) this.#stopTimer();
  }

  #stopTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  // A chain of timeouts rather than an interval: a slow poll never overlaps the next one.
  #schedule(): void {
    if (this.#timer || this.#watchers.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pollSafely(true);
      this.#schedule();
    }, this.#pollIntervalMs);
  }

  #pollSafely(onlyIfChanged: boolean): void {
    try {
      this.#poll(onlyIfChanged);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#failAll(new GatehouseError(ErrorCode.STORAGE, `storage watch failed: ${message}; re-create the watcher`));
    }
  }

  #poll(onlyIfChanged = false): void {
    if (onlyIfChanged) {
      // data_version changes only when another connection commits; our own commits come
      // through notifyLocalWrite, so an unchanged version means there is nothing to read.
      const version = this.#readDataVersion();
      if (version === this.#dataVersion) return;
      this.#dataVersion = version;
    }
    let first = true;
    for (;;) {
      // One read snapshot, so a commit landing between the two queries cannot look like a gap.
      const [rows, revision] = this.#snapshot(this.#lastDelivered);
      if (first && rows.length === 0 && revision > this.#lastDelivered) return this.#failGap();
      first = false;
      for (const row of rows) {
        if (row.revision !== this.#lastDelivered + 1) return this.#failGap();
        this.#lastDelivered = row.revision;
        const item: Item = { key: row.key, value: row.value, revision: row.revision };
        if (row.expires !== null) item.expires = new Date(row.expires);
        const event = { type: row.type, item, committedAt: row.created };
        // Copy: a watcher that overflows closes itself and leaves the set mid-loop.
        for (const watcher of [...this.#watchers]) watcher.deliver(event);
      }
      if (rows.length < READ_BATCH || this.#watchers.size === 0) return;
    }
  }

  readonly #snapshot = (after: number): [EventRow[], number] =>
    this.#db.transaction(
      () => [this.#since.all(after, READ_BATCH), this.#revision.get()!.value] as [EventRow[], number],
    )();

  #failGap(): void {
    this.#failAll(
      new GatehouseError(
        ErrorCode.STORAGE,
        `storage events after revision ${this.#lastDelivered} were pruned before this process read them; re-create the watcher and re-read`,
      ),
    );
  }

  #failAll(error: GatehouseError): void {
    for (const watcher of [...this.#watchers]) watcher.fail(error);
  }

  #readDataVersion(): number {
    return this.#db.pragma('data_version', { simple: true }) as number;
  }
}
