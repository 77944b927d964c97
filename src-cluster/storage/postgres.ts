// The PostgreSQL backend: any number of auth servers share one database. Each write transaction
// first locks the one-row revision counter, so writes from every server are serialised there
// (like SQLite's single writer), revisions are gap-free and commit in revision order, and the
// change feed (postgres-events.ts) can replay from any revision. Puts, creates, compare-and-swaps,
// deletes and batches run as one call of gatehouse_write (postgres-schema.ts), whose statements
// enforce the preconditions: ON CONFLICT DO NOTHING for a create, UPDATE ... WHERE revision for a
// compare-and-swap; deleteRange and the expiry sweep use a transaction on a pooled connection.
import pg from 'pg';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import {
  checkLimit,
  checkKey,
  MAX_BATCH_OPS,
  prefixEnd,
  type Backend,
  type BatchOp,
  type DataMigration,
  type Item,
  type ItemInput,
  type Watcher,
} from './backend.ts';
import { checkOp } from './batch-ops.ts';
import { checkPostgresUrl, postgresClientConfig, redactPostgresUrl } from './postgres-connection.ts';
import { PgEventFeed, EVENTS_CHANNEL } from './postgres-events.ts';
import { SQL } from './postgres-queries.ts';
import { migrate } from './postgres-schema.ts';
import { preconditionError, runPostgresDataMigration, toItem, writePayload, type ItemRow } from './postgres-writes.ts';
import { DEFAULT_MAX_BUFFERED_EVENTS } from './watch-queue.ts';

export interface PostgresBackendOptions {
  /** postgres://USER@HOST:PORT/DB?sslmode=verify-full&sslrootcert=...; checked by checkPostgresUrl. */
  connString: string;
  /** Connections in the pool (default 10); the LISTEN connection comes on top. */
  poolSize?: number;
  /** How long to wait for a connection (new or from the pool) before failing with STORAGE. */
  connectTimeoutMs?: number;
  /** Server-side statement_timeout: no statement (including waiting for the revision lock) runs longer. */
  statementTimeoutMs?: number;
  /** How often watchers read the events table even without NOTIFY. */
  pollIntervalMs?: number;
  /** Wait before re-opening a dropped LISTEN connection (default 200 ms). */
  reconnectDelayMs?: number;
  sweepIntervalMs?: number;
  eventRetentionMs?: number;
  maxBufferedEvents?: number;
  now?: () => number;
  onBackgroundError?: (error: GatehouseError) => void;
}

const SWEEP_BATCH = 500;

/** key, value, revision, expires: the item reads' rows in rowMode 'array' (see #items). */
function storageError(action: string, error: unknown): GatehouseError {
  if (isGatehouseError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new GatehouseError(ErrorCode.STORAGE, `storage ${action} failed: ${message}`, { cause: message });
}

/** One write transaction: the revision counter before it and the next revision to hand out. */
interface WriteTxn {
  client: pg.PoolClient;
  base: number;
  next: number;
  keys: string[];
  now: number;
}

export class PostgresBackend implements Backend {
  /** The connection string without its password. */
  readonly target: string;
  readonly #pool: pg.Pool;
  readonly #now: () => number;
  readonly #eventRetentionMs: number;
  readonly #onBackgroundError: (error: GatehouseError) => void;
  readonly #feed: PgEventFeed;
  readonly #sweepTimer: NodeJS.Timeout;
  #closed = false;

  /** Connects (verifying the server's certificate), runs pending migrations, and starts the sweep. */
  static async open(options: PostgresBackendOptions): Promise<PostgresBackend> {
    const target = checkPostgresUrl(options.connString);
    const config: pg.PoolConfig = {
      ...postgresClientConfig(options.connString),
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      idleTimeoutMillis: 60_000,
      keepAlive: true,
      application_name: 'gatehouse',
      // Every statement here is a short OLTP one; JIT compiling only ever adds its own time.
      options: '-c jit=off',
    };
    const pool = new pg.Pool(config);
    const onBackgroundError =
      options.onBackgroundError ?? ((e: GatehouseError) => console.error(`gatehouse storage: ${e.message}`));
    // An idle pooled connection that dies (server restart) is reported, not thrown at nobody.
    pool.on('error', (e) => onBackgroundError(storageError('idle connection', e)));
    try {
      await migrate(pool);
    } catch (error) {
      await pool.end().catch(() => undefined);
      if (isGatehouseError(error)) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new GatehouseError(
        ErrorCode.STORAGE,
        `could not open PostgreSQL storage at ${target.host}:${target.port}/${target.database}: ${message}` +
          (/certificate|self.signed|altname/i.test(message)
            ? ' (sslmode=verify-full: the server certificate must chain to sslrootcert and name the host)'
            : ''),
        { cause: message },
      );
    }
    return new PostgresBackend(
      pool,
      { ...options, onBackgroundError },
      { ...config, application_name: 'gatehouse-watch' },
    );
  }

  private constructor(pool: pg.Pool, options: PostgresBackendOptions, listenConfig: pg.ClientConfig) {
    this.target = redactPostgresUrl(options.connString);
    this.#pool = pool;
    this.#now = options.now ?? Date.now;
    this.#eventRetentionMs = options.eventRetentionMs ?? 5 * 60_000;
    this.#onBackgroundError = options.onBackgroundError!;
    this.#feed = new PgEventFeed(pool, {
      listenConfig,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      reconnectDelayMs: options.reconnectDelayMs ?? 200,
      maxStaleMs: 30_000,
      maxBufferedEvents: options.maxBufferedEvents ?? DEFAULT_MAX_BUFFERED_EVENTS,
      now: Date.now,
      onBackgroundError: this.#onBackgroundError,
    });
    this.#sweepTimer = setInterval(() => {
      this.sweepExpired().catch((e: unknown) => this.#onBackgroundError(storageError('expiry sweep', e)));
    }, options.sweepIntervalMs ?? 1000);
  }

  /** The LISTEN connection's server pid, while watchers are live (tests cut it). */
  get listenerPid(): number | undefined {
    return this.#feed.listenerPid;
  }

  async get(key: string): Promise<Item | undefined> {
    checkKey(key);
    const rows = await this.#items('get', 'gatehouse_get', SQL.get, [key, this.#now()]);
    return rows[0] && toItem(rows[0]);
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

  /**
   * Checks every op, then runs them all in ONE call of gatehouse_write (postgres-schema.ts): one
   * round trip and one transaction, whose statements enforce the preconditions.
   */
  async #writeOps(action: string, ops: BatchOp[], tagIndex = false): Promise<(Item | undefined)[]> {
    const expiries = ops.map((op) => checkOp(op));
    this.#checkOpen();
    const payload = writePayload(ops, expiries);
    let result: string[];
    try {
      // Named: prepared once per pooled connection, not parsed and planned on every write.
      const { rows } = await this.#pool.query<{ r: string[] }>({
        name: 'gatehouse_write',
        text: 'SELECT gatehouse_write($1::jsonb, $2) AS r',
        values: [JSON.stringify(payload), this.#now()],
      });
      result = rows[0]!.r;
    } catch (error) {
      throw storageError(action, preconditionError(error, ops, tagIndex));
    }
    const [base, last] = [Number(result[0]), Number(result[1])];
    if (last > base)
      this.#feed.notifyLocalWrite(
        base + 1,
        last,
        payload.map((p) => p.k),
      );
    return ops.map((op, i) => {
      if (op.type !== 'put' && op.type !== 'create' && op.type !== 'compareAndSwap') return undefined;
      const item: Item = { key: op.item.key, value: op.item.value, revision: Number(result[i + 2]) };
      if (expiries[i] !== null) item.expires = new Date(expiries[i]!);
      return item;
    });
  }

  /** See runPostgresDataMigration (postgres-writes.ts). */
  async runDataMigration(migration: DataMigration): Promise<boolean> {
    this.#checkOpen();
    try {
      const r = await runPostgresDataMigration(this.#pool, migration, this.#now());
      if (r.written) this.#feed.notifyLocalWrite(r.written.first, r.written.last, r.written.keys);
      return r.applied;
    } catch (error) {
      throw storageError(`data migration ${migration.id}`, error);
    }
  }

  async deleteRange(start: string, end: string): Promise<number> {
    return this.#write('delete range', async (txn) => {
      const r = await txn.client.query<{ key: string; live: boolean }>(SQL.removeRange, [
        start,
        end,
        txn.next,
        txn.now,
      ]);
      txn.next += r.rows.length;
      txn.keys.push(...r.rows.map((row) => row.key));
      return r.rows.filter((row) => row.live).length;
    });
  }

  async listRange(start: string, end: string, limit?: number): Promise<Item[]> {
    checkLimit(limit);
    const rows = await this.#items('list', 'gatehouse_range', SQL.range, [start, this.#now(), end, limit ?? null]);
    return rows.map(toItem);
  }

  async listPrefix(prefix: string, limit?: number): Promise<Item[]> {
    checkLimit(limit);
    const end = prefixEnd(prefix);
    if (end !== undefined) return this.listRange(prefix, end, limit);
    const rows = await this.#items('list', 'gatehouse_from', SQL.from, [prefix, this.#now(), limit ?? null]);
    return rows.map(toItem);
  }

  watch(prefixes: string[]): Watcher {
    this.#checkOpen();
    return this.#feed.watch(prefixes);
  }

  /**
   * Deletes expired items (with delete events) and prunes old events. Every server sweeps; the
   * revision lock serialises them, so a second sweeper finds nothing left and emits nothing.
   */
  async sweepExpired(): Promise<number> {
    const now = this.#now();
    const { rows } = await this.#read('expiry sweep', () =>
      this.#pool.query<{ due: boolean }>(SQL.sweepDue, [now, now - this.#eventRetentionMs]),
    );
    if (!rows[0]?.due) return 0;
    let total = 0;
    for (let batch = 0; ; batch++) {
      const swept = await this.#write('expiry sweep', async (txn) => {
        if (batch === 0) await txn.client.query(SQL.pruneEvents, [txn.now - this.#eventRetentionMs]);
        const r = await txn.client.query<{ key: string }>(SQL.removeExpired, [txn.now, SWEEP_BATCH, txn.next]);
        txn.next += r.rows.length;
        txn.keys.push(...r.rows.map((row) => row.key));
        return r.rows.length;
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
    await this.#pool.end();
  }

  #checkOpen(): void {
    if (this.#closed) throw new GatehouseError(ErrorCode.STORAGE, `storage backend ${this.target} is closed`);
  }

  /**
   * An item read as a named (prepared once per pooled connection) statement in rowMode 'array':
   * no parse and plan per call, and pg builds no object per row, which is most of the client's
   * time for a 10,000-row listing (`gatectl devices ls`).
   */
  async #items(action: string, name: string, text: string, values: unknown[]): Promise<ItemRow[]> {
    const { rows } = await this.#read(action, () =>
      this.#pool.query<ItemRow>({ name, text, values, rowMode: 'array' }),
    );
    return rows;
  }

  async #read<T>(action: string, fn: () => Promise<T>): Promise<T> {
    this.#checkOpen();
    try {
      return await fn();
    } catch (error) {
      throw storageError(action, error);
    }
  }

  /**
   * Runs `fn` in a transaction holding the revision row lock; commits the new counter and a
   * NOTIFY with the last revision (delivered by PostgreSQL at commit, never for a rollback).
   */
  async #write<T>(action: string, fn: (txn: WriteTxn) => Promise<T>): Promise<T> {
    this.#checkOpen();
    let client: pg.PoolClient | undefined;
    let txn: WriteTxn | undefined;
    try {
      client = await this.#pool.connect();
      const results = (await client.query(SQL.begin)) as unknown as pg.QueryResult<{ value: string }>[];
      const base = Number(results[1]!.rows[0]!.value);
      txn = { client, base, next: base + 1, keys: [], now: this.#now() };
      const out = await fn(txn);
      const last = txn.next - 1;
      // Integers we computed, so inlining them is safe; one round trip for all three statements.
      await client.query(
        last > base
          ? `UPDATE gatehouse_revision SET value = ${last}; NOTIFY ${EVENTS_CHANNEL}, '${last}'; COMMIT`
          : 'COMMIT',
      );
      if (last > base) this.#feed.notifyLocalWrite(base + 1, last, txn.keys);
      return out;
    } catch (error) {
      // A connection that cannot even roll back is broken: drop it rather than pool it.
      const broken = client
        ? await client.query('ROLLBACK').then(
            () => false,
            () => true,
          )
        : false;
      client?.release(broken);
      client = undefined;
      throw storageError(action, error);
    } finally {
      client?.release();
    }
  }
}
