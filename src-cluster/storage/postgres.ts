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
import { casConflict, checkOp } from './batch-ops.ts';
import { checkPostgresUrl, postgresClientConfig, redactPostgresUrl } from './postgres-connection.ts';
import { PgEventFeed, EVENTS_CHANNEL } from './postgres-events.ts';
import { SQL } from './postgres-queries.ts';
import { migrate, MIGRATION_LOCK_ID } from './postgres-schema.ts';
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
type ItemRow = [key: string, value: string, revision: string, expires: string | null];

function toItem(row: ItemRow): Item {
  const item: Item = { key: row[0], value: row[1], revision: Number(row[2]) };
  if (row[3] !== null) item.expires = new Date(Number(row[3]));
  return item;
}

function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

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

  /**
   * One transaction under the schema migrations' advisory lock (MIGRATION_LOCK_ID): of several auth
   * servers starting at once exactly one applies it, the others wait and find it recorded. The
   * ops go through gatehouse_write, so watchers see them like any write.
   */
  async runDataMigration(migration: DataMigration): Promise<boolean> {
    this.#checkOpen();
    const client = await this.#pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
      const done = await client.query('SELECT 1 FROM gatehouse_data_migrations WHERE id = $1', [migration.id]);
      if (done.rowCount) {
        await client.query('COMMIT');
        return false;
      }
      const now = this.#now();
      const items: Item[] = [];
      for (const prefix of migration.prefixes) {
        const end = prefixEnd(prefix) ?? null;
        const { rows } = await client.query<ItemRow>({
          text: `SELECT key, value, revision, expires FROM gatehouse_kv
            WHERE key >= $1 AND ($3::text IS NULL OR key < $3) AND (expires IS NULL OR expires > $2) ORDER BY key`,
          values: [prefix, now, end],
          rowMode: 'array',
        });
        items.push(...rows.map(toItem));
      }
      const ops = migration.plan(items);
      let written: [number, number] | undefined;
      let keys: string[] = [];
      if (ops.length > 0) {
        const payload = writePayload(
          ops,
          ops.map((op) => checkOp(op)),
        );
        const { rows } = await client
          .query<{ r: string[] }>('SELECT gatehouse_write($1::jsonb, $2) AS r', [JSON.stringify(payload), now])
          .catch((e: unknown) => {
            throw preconditionError(e, ops, true);
          });
        written = [Number(rows[0]!.r[0]), Number(rows[0]!.r[1])];
        keys = payload.map((p) => p.k);
      }
      await client.query('INSERT INTO gatehouse_data_migrations (id, description) VALUES ($1, $2)', [
        migration.id,
        migration.description,
      ]);
      await client.query('COMMIT');
      if (written && written[1] > written[0]) this.#feed.notifyLocalWrite(written[0] + 1, written[1], keys);
      return true;
    } catch (error) {
      broken = await client.query('ROLLBACK').then(
        () => false,
        () => true,
      );
      throw storageError(`data migration ${migration.id}`, error);
    } finally {
      client.release(broken);
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

/** Ops as gatehouse_write takes them (postgres-schema.ts). */
function writePayload(ops: BatchOp[], expiries: (number | null)[]) {
  return ops.map((op, i) => ({
    t: op.type,
    k: opKey(op),
    ...(op.type === 'put' || op.type === 'create' || op.type === 'compareAndSwap'
      ? { v: op.item.value, e: expiries[i] }
      : {}),
    ...(op.type === 'compareAndSwap' ? { r: op.expected.revision } : {}),
    ...(op.type === 'check' && op.revision !== undefined ? { r: op.revision } : {}),
  }));
}

/** gatehouse_write's GH00x errors as the contract's precondition errors (other errors pass through). */
function preconditionError(error: unknown, ops: BatchOp[], tagIndex: boolean): unknown {
  const code = pgCode(error);
  if (code !== 'GH001' && code !== 'GH002' && code !== 'GH003') return error;
  const detail = JSON.parse((error as { detail?: string }).detail ?? '{}') as { op?: number; actual?: number | null };
  const index = detail.op ?? 0;
  const op = ops[index]!;
  const key = opKey(op);
  let e: GatehouseError;
  if (code === 'GH001') e = new GatehouseError(ErrorCode.ALREADY_EXISTS, `${key} already exists`);
  else if (code === 'GH003') e = new GatehouseError(ErrorCode.NOT_FOUND, `${key} not found`);
  else {
    const expected =
      op.type === 'compareAndSwap' ? op.expected : { key, revision: op.type === 'check' ? op.revision : undefined };
    const actual =
      detail.actual === null || detail.actual === undefined ? undefined : { revision: Number(detail.actual) };
    e = casConflict(expected, actual);
  }
  if (!tagIndex) return e;
  return new GatehouseError(e.code, `batch op ${index} (${op.type}): ${e.message}`, { ...e.details, op: index });
}

function opKey(op: BatchOp): string {
  return op.type === 'compareAndSwap'
    ? op.expected.key
    : op.type === 'put' || op.type === 'create'
      ? op.item.key
      : op.key;
}
