// The default backend: one SQLite file in the data dir. Several processes may share the file
// (WAL lets readers run beside the one writer); every write also appends to an `events`
// table, which watchers poll by revision, so a process sees the others' changes.
import Database from 'better-sqlite3';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import {
  checkKey,
  checkLimit,
  MAX_BATCH_OPS,
  prefixEnd,
  type Backend,
  type BatchOp,
  type DataMigration,
  type Item,
  type ItemInput,
  type Watcher,
} from './backend.ts';
import { casConflict, checkOp } from './batch-ops.ts';
import { SqliteEventFeed, type LocalWrite } from './sqlite-events.ts';
import { createPrivateFile, prepareSchema } from './sqlite-schema.ts';
import { DEFAULT_MAX_BUFFERED_EVENTS } from './watch-queue.ts';

export interface SqliteBackendOptions {
  /** Database file; created with mode 0600 (it holds CA keys). ':memory:' for throwaway use. */
  path: string;
  /** How often watchers look for writes made by other processes. In-process writes notify at once. */
  pollIntervalMs?: number;
  /** How often expired items are deleted (emitting delete events) and old events pruned. */
  sweepIntervalMs?: number;
  /** Events older than this are pruned; a watcher that has not read them by then fails. */
  eventRetentionMs?: number;
  /** How long a write waits for another process's write lock before failing with STORAGE. */
  busyTimeoutMs?: number;
  maxBufferedEvents?: number;
  /** Clock in Unix milliseconds; tests pass their own to control expiry. */
  now?: () => number;
  /** Failures in the background sweep, which has no caller to throw to. */
  onBackgroundError?: (error: GatehouseError) => void;
}

const SWEEP_BATCH = 500;

interface Row {
  key: string;
  value: string;
  revision: number;
  expires: number | null;
}

function toItem(row: Row, revision = row.revision): Item {
  const item: Item = { key: row.key, value: row.value, revision };
  if (row.expires !== null) item.expires = new Date(row.expires);
  return item;
}

function storageError(action: string, error: unknown): GatehouseError {
  if (isGatehouseError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GatehouseError(ErrorCode.STORAGE, `storage ${action} failed: ${message}`, { cause: message });
}

export class SqliteBackend implements Backend {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #now: () => number;
  readonly #eventRetentionMs: number;
  readonly #onBackgroundError: (error: GatehouseError) => void;
  readonly #feed: SqliteEventFeed;
  readonly #sweepTimer: NodeJS.Timeout;
  #closed = false;
  /** The write transaction in progress (revisions handed out, keys written). */
  #txn: LocalWrite | undefined;
  readonly #sql;

  static async open(options: SqliteBackendOptions): Promise<SqliteBackend> {
    let db: Database.Database | undefined;
    try {
      if (options.path !== ':memory:') createPrivateFile(options.path);
      db = new Database(options.path);
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      prepareSchema(db);
      return new SqliteBackend(db, options);
    } catch (error) {
      db?.close();
      throw storageError(`opening ${options.path}`, error);
    }
  }

  private constructor(db: Database.Database, options: SqliteBackendOptions) {
    this.path = options.path;
    this.#db = db;
    this.#now = options.now ?? Date.now;
    this.#eventRetentionMs = options.eventRetentionMs ?? 5 * 60_000;
    this.#onBackgroundError = options.onBackgroundError ?? ((e) => console.error(`gatehouse storage: ${e.message}`));
    this.#sql = {
      get: db.prepare<[string, number], Row>(
        'SELECT key, value, revision, expires FROM kv WHERE key = ? AND (expires IS NULL OR expires > ?)',
      ),
      getAny: db.prepare<[string], Row>('SELECT key, value, revision, expires FROM kv WHERE key = ?'),
      upsert: db.prepare<[string, string, number, number | null]>(
        `INSERT INTO kv (key, value, revision, expires) VALUES (?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, revision = excluded.revision, expires = excluded.expires`,
      ),
      remove: db.prepare<[string]>('DELETE FROM kv WHERE key = ?'),
      range: db.prepare<[string, string, number, number], Row>(
        `SELECT key, value, revision, expires FROM kv
         WHERE key >= ? AND key < ? AND (expires IS NULL OR expires > ?) ORDER BY key LIMIT ?`,
      ),
      from: db.prepare<[string, number, number], Row>(
        `SELECT key, value, revision, expires FROM kv
         WHERE key >= ? AND (expires IS NULL OR expires > ?) ORDER BY key LIMIT ?`,
      ),
      rangeAll: db.prepare<[string, string], Row>(
        'SELECT key, value, revision, expires FROM kv WHERE key >= ? AND key < ? ORDER BY key',
      ),
      expired: db.prepare<[number, number], Row>(
        'SELECT key, value, revision, expires FROM kv WHERE expires <= ? ORDER BY expires LIMIT ?',
      ),
      revision: db.prepare<[], number>("SELECT value FROM meta WHERE name = 'revision'").pluck(),
      setRevision: db.prepare<[number]>("UPDATE meta SET value = ? WHERE name = 'revision'"),
      event: db.prepare<[number, 'put' | 'delete', string, string, number | null, number]>(
        'INSERT INTO events (revision, type, key, value, expires, created) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      pruneEvents: db.prepare<[number]>('DELETE FROM events WHERE created < ?'),
      anyExpired: db.prepare<[number], 1>('SELECT 1 FROM kv WHERE expires <= ? LIMIT 1').pluck(),
      anyOldEvent: db.prepare<[number], 1>('SELECT 1 FROM events WHERE created < ? LIMIT 1').pluck(),
    };
    this.#feed = new SqliteEventFeed(db, {
      pollIntervalMs: options.pollIntervalMs ?? 50,
      maxBufferedEvents: options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS,
    });
    this.#sweepTimer = setInterval(() => {
      this.sweepExpired().catch((e: unknown) => this.#onBackgroundError(storageError('expiry sweep', e)));
    }, options.sweepIntervalMs ?? 1000);
  }

  async get(key: string): Promise<Item | undefined> {
    checkKey(key);
    const row = this.#read('get', () => this.#sql.get.get(key, this.#now()));
    return row && toItem(row);
  }

  async put(input: ItemInput): Promise<Item> {
    return (await this.#writeOps('put', [{ type: 'put', item: input }]))[0]!;
  }

  async create(input: ItemInput): Promise<Item> {
    return (await this.#writeOps('create', [{ type: 'create', item: input }]))[0]!;
  }

  async compareAndSwap(expected: { key: string; revision: number }, replacement: ItemInput): Promise<Item> {
    const op: BatchOp = { type: 'compareAndSwap', expected, item: replacement };
    return (await this.#writeOps('compare-and-swap', [op]))[0]!;
  }

  async delete(key: string): Promise<void> {
    await this.#writeOps('delete', [{ type: 'delete', key }]);
  }

  async batch(ops: BatchOp[]): Promise<(Item | undefined)[]> {
    if (!Array.isArray(ops) || ops.length === 0 || ops.length > MAX_BATCH_OPS) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `a storage batch needs 1-${MAX_BATCH_OPS} ops, got ${Array.isArray(ops) ? ops.length : typeof ops}`,
      );
    }
    return this.#writeOps('batch', ops, true);
  }

  /** Checks every op, then applies them all in one IMMEDIATE transaction (all or nothing). */
  async #writeOps(action: string, ops: BatchOp[], tagIndex = false): Promise<(Item | undefined)[]> {
    const expiries = ops.map((op) => checkOp(op));
    return this.#write(action, (now) =>
      ops.map((op, index) => {
        try {
          return this.#apply(op, expiries[index]!, now);
        } catch (error) {
          // Throwing rolls the whole transaction back; say which op's precondition failed.
          if (!tagIndex || !isGatehouseError(error)) throw error;
          throw new GatehouseError(error.code, `batch op ${index} (${op.type}): ${error.message}`, {
            ...error.details,
            op: index,
          });
        }
      }),
    );
  }

  /** Inside a write: one op with its precondition; throws (rolling back) when it fails. */
  #apply(op: BatchOp, expires: number | null, now: number): Item | undefined {
    if (op.type === 'put') {
      this.#expireKey(op.item.key, now);
      return this.#store(op.item, expires, now);
    }
    const key = op.type === 'compareAndSwap' ? op.expected.key : op.type === 'create' ? op.item.key : op.key;
    const current = this.#expireKey(key, now);
    switch (op.type) {
      case 'create':
        if (current) throw new GatehouseError(ErrorCode.ALREADY_EXISTS, `${key} already exists`);
        return this.#store(op.item, expires, now);
      case 'compareAndSwap':
        if (!current || current.revision !== op.expected.revision) throw casConflict(op.expected, current);
        return this.#store(op.item, expires, now);
      case 'delete':
        if (!current) throw new GatehouseError(ErrorCode.NOT_FOUND, `${key} not found`);
        this.#remove(current, now);
        return undefined;
      case 'check':
        if (!current || (op.revision !== undefined && current.revision !== op.revision)) {
          throw casConflict({ key, revision: op.revision }, current);
        }
        return undefined;
    }
  }

  async runDataMigration(migration: DataMigration): Promise<boolean> {
    // The IMMEDIATE write lock serialises processes opening the file at once: the second one
    // finds the id recorded. The plan sees the items as of inside the lock.
    return this.#write(`data migration ${migration.id}`, (now) => {
      const done = this.#db.prepare('SELECT 1 FROM data_migrations WHERE id = ?').get(migration.id);
      if (done) return false;
      const items: Item[] = [];
      for (const prefix of migration.prefixes) {
        const rows = this.#db
          .prepare<[string, string | null, string | null, number], Row>(
            'SELECT key, value, revision, expires FROM kv WHERE key >= ? AND (? IS NULL OR key < ?) ' +
              'AND (expires IS NULL OR expires > ?) ORDER BY key',
          )
          .all(prefix, prefixEnd(prefix) ?? null, prefixEnd(prefix) ?? null, now);
        items.push(...rows.map((r) => toItem(r)));
      }
      const ops = migration.plan(items);
      ops.forEach((op) => this.#apply(op, checkOp(op), now));
      this.#db
        .prepare('INSERT INTO data_migrations (id, description, applied) VALUES (?, ?, ?)')
        .run(migration.id, migration.description, now);
      return true;
    });
  }

  async deleteRange(start: string, end: string): Promise<number> {
    return this.#write('delete range', (now) => {
      let live = 0;
      for (const row of this.#sql.rangeAll.all(start, end)) {
        // Expired rows go too, with the same delete event the sweep would have produced.
        if (row.expires === null || row.expires > now) live++;
        this.#remove(row, now);
      }
      return live;
    });
  }

  async listRange(start: string, end: string, limit?: number): Promise<Item[]> {
    checkLimit(limit);
    const rows = this.#read('list', () => this.#sql.range.all(start, end, this.#now(), limit ?? -1));
    return rows.map((row) => toItem(row));
  }

  async listPrefix(prefix: string, limit?: number): Promise<Item[]> {
    checkLimit(limit);
    const end = prefixEnd(prefix);
    if (end !== undefined) return this.listRange(prefix, end, limit);
    const rows = this.#read('list', () => this.#sql.from.all(prefix, this.#now(), limit ?? -1));
    return rows.map((row) => toItem(row));
  }

  watch(prefixes: string[]): Watcher {
    this.#checkOpen();
    try {
      return this.#feed.watch(prefixes);
    } catch (error) {
      throw storageError('watch', error);
    }
  }

  /** Deletes expired items (emitting delete events) and prunes old events; returns items deleted. */
  async sweepExpired(): Promise<number> {
    // Every process sweeps; look before taking the write lock so idle sweeps stay read-only.
    const now = this.#now();
    const due = this.#read(
      'expiry sweep',
      () =>
        this.#sql.anyExpired.get(now) !== undefined ||
        this.#sql.anyOldEvent.get(now - this.#eventRetentionMs) !== undefined,
    );
    if (!due) return 0;
    let total = 0;
    for (let batch = 0; ; batch++) {
      const swept = this.#write('expiry sweep', (now) => {
        if (batch === 0) this.#sql.pruneEvents.run(now - this.#eventRetentionMs);
        const rows = this.#sql.expired.all(now, SWEEP_BATCH);
        for (const row of rows) this.#remove(row, now);
        return rows.length;
      });
      total += swept;
      if (swept < SWEEP_BATCH) return total;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweepTimer);
    this.#feed.close();
    this.#db.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new GatehouseError(ErrorCode.STORAGE, `storage backend ${this.path} is closed`);
  }

  #read<T>(action: string, fn: () => T): T {
    this.#checkOpen();
    try {
      return fn();
    } catch (error) {
      throw storageError(action, error);
    }
  }

  // IMMEDIATE takes the write lock up front, so the revision counter and the rows it guards
  // are never read by one process while another is between read and write.
  // The revision counter is read once and written once per transaction (not once per row: an
  // audit batch writes hundreds), and the feed is told which revisions and keys it holds.
  #write<T>(action: string, fn: (now: number) => T): T {
    this.#checkOpen();
    let result: T;
    const written: LocalWrite = { first: 0, last: 0, keys: [] };
    try {
      result = this.#db
        .transaction(() => {
          this.#txn = written;
          written.first = this.#sql.revision.get()! + 1;
          written.last = written.first - 1;
          const out = fn(this.#now());
          if (written.keys.length > 0) this.#sql.setRevision.run(written.last);
          return out;
        })
        .immediate();
    } catch (error) {
      throw storageError(action, error);
    } finally {
      this.#txn = undefined;
    }
    if (written.keys.length > 0) this.#feed.notifyLocalWrite(written);
    return result;
  }

  /** Inside a write: removes the key's row if it has expired; returns the live row. */
  #expireKey(key: string, now: number): Row | undefined {
    const row = this.#sql.getAny.get(key);
    if (!row) return undefined;
    if (row.expires !== null && row.expires <= now) {
      this.#remove(row, now);
      return undefined;
    }
    return row;
  }

  #store(input: ItemInput, expires: number | null, now: number): Item {
    const revision = this.#emit('put', input.key, input.value, expires, now);
    this.#sql.upsert.run(input.key, input.value, revision, expires);
    return toItem({ key: input.key, value: input.value, revision, expires });
  }

  #remove(row: Row, now: number): void {
    this.#emit('delete', row.key, row.value, row.expires, now);
    this.#sql.remove.run(row.key);
  }

  // Every revision gets exactly one event, so watchers can detect pruned events as a gap.
  #emit(type: 'put' | 'delete', key: string, value: string, expires: number | null, now: number): number {
    const txn = this.#txn!;
    const revision = ++txn.last;
    txn.keys.push(key);
    this.#sql.event.run(revision, type, key, value, expires, now);
    return revision;
  }
}
