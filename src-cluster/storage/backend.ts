// The storage contract every backend (SQLite now, PostgreSQL later) fulfils. Callers only
// see this file, so swapping the backend never touches them. Everything is async because
// PostgreSQL will need it, even though SQLite answers synchronously.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

/** One stored record. `value` is opaque text (the resource layer stores JSON). */
export interface Item {
  key: string;
  value: string;
  /**
   * Revision of the write that produced this state. All revisions of one backend come from
   * a single increasing counter (like etcd's), so they also order events across keys.
   */
  revision: number;
  expires?: Date;
}

/** What a caller writes; the backend assigns the revision. */
export interface ItemInput {
  key: string;
  value: string;
  expires?: Date;
}

/**
 * `init` arrives first, once the watch is live: every write with a revision greater than
 * `revision` will be delivered. A delete event's item carries the last value the key had
 * and the revision of the delete itself (expiry sweeps also produce delete events).
 * `committedAt` (ms since the epoch, as the writing process's clock read it when it wrote) comes
 * from the change feed, so a watcher can tell how long another server's write took to reach it.
 */
export type WatchEvent =
  | { type: 'init'; revision: number }
  | { type: 'put'; item: Item; committedAt?: number }
  | { type: 'delete'; item: Item; committedAt?: number };

/**
 * Events in revision order, read once with `for await`. The iteration ends after close()
 * (by the owner or because the backend closed) and throws GatehouseError(STORAGE) when the
 * watcher fell behind and lost events: the consumer must then re-create it and re-read.
 */
export interface Watcher extends AsyncIterable<WatchEvent> {
  readonly prefixes: readonly string[];
  readonly closed: boolean;
  close(): void;
}

/**
 * One step of a batch. Each has the precondition of its single-call twin (create: key absent;
 * compareAndSwap: key at that revision; delete: key live); `check` only asserts a precondition
 * (the key is live, and at `revision` when given) without writing.
 */
export type BatchOp =
  | { type: 'put'; item: ItemInput }
  | { type: 'create'; item: ItemInput }
  | { type: 'compareAndSwap'; expected: { key: string; revision: number }; item: ItemInput }
  | { type: 'delete'; key: string }
  | { type: 'check'; key: string; revision?: number };

/**
 * Records that only make sense together (a user and its credentials, a device and its tag claim,
 * an audit event and its index keys) are written in one batch, so a crash or a failed
 * precondition leaves none of them. Bounded so one call cannot hold the write lock for long.
 * The largest batches are a db service's: 500 audit events (3 keys each) or its up to 1000
 * registered databases plus the ones it drops; 2048 ops commit in a few milliseconds.
 */
export const MAX_BATCH_OPS = 2048;

/**
 * A one-time rewrite of stored items (e.g. backfilling index keys an older version never wrote).
 * The storage knows nothing of what the items mean: it reads the live items under `prefixes` and
 * applies the ops `plan` makes of them, in ONE transaction that also records `id`, so the
 * migration runs exactly once per database however many processes open it at once.
 */
export interface DataMigration {
  /** Stable and unique, e.g. "device-indexes-1"; a new version of a migration takes a new id. */
  id: string;
  description: string;
  prefixes: string[];
  /** Pure: the ops to apply, given every live item under the prefixes (sorted by key). */
  plan(items: Item[]): BatchOp[];
}

export interface Backend {
  /** Undefined when missing or expired. */
  get(key: string): Promise<Item | undefined>;
  /** Unconditional upsert. */
  put(item: ItemInput): Promise<Item>;
  /** ALREADY_EXISTS when a live item has the key. */
  create(item: ItemInput): Promise<Item>;
  /** CONFLICT when the item is missing, expired or at another revision; keys must match. */
  compareAndSwap(expected: { key: string; revision: number }, replacement: ItemInput): Promise<Item>;
  /** NOT_FOUND when missing or expired. */
  delete(key: string): Promise<void>;
  /**
   * All ops in one transaction, in order: either every op applies or none does (the first failed
   * precondition throws its single-call error, with `details.op` = its index). Returns, per op,
   * the written item (undefined for delete and check). Watchers see the writes in op order.
   */
  batch(ops: BatchOp[]): Promise<(Item | undefined)[]>;
  /** Deletes live items with start <= key < end; returns how many. */
  deleteRange(start: string, end: string): Promise<number>;
  /** Live items with start <= key < end, sorted by key (Unicode code point order). */
  listRange(start: string, end: string, limit?: number): Promise<Item[]>;
  /** Live items whose key starts with `prefix`, sorted by key. */
  listPrefix(prefix: string, limit?: number): Promise<Item[]>;
  /** Watch keys under any of `prefixes`; an empty list watches everything. */
  watch(prefixes: string[]): Watcher;
  /**
   * Runs `migration` unless this database already recorded its id: reads, plans, writes and
   * records in one transaction (on PostgreSQL under the schema migrations' advisory lock).
   * Returns whether this call applied it.
   */
  runDataMigration(migration: DataMigration): Promise<boolean>;
  /** Stops timers and watchers and releases the database. Idempotent. */
  close(): Promise<void>;
}

const MAX_KEY_LENGTH = 1024;
// Lone surrogates cannot be encoded as UTF-8, so the database could not store them faithfully.
const CONTROL_OR_LONE_SURROGATE =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Keys are '/'-separated paths such as `/roles/admin`; control characters are refused. */
export function checkKey(key: string): void {
  if (typeof key !== 'string' || !key.startsWith('/') || key.length > MAX_KEY_LENGTH) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `storage key must start with "/" and be at most ${MAX_KEY_LENGTH} characters: ${JSON.stringify(key)}`,
    );
  }
  if (CONTROL_OR_LONE_SURROGATE.test(key)) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `storage key contains invalid characters: ${JSON.stringify(key)}`);
  }
}

/**
 * The smallest string greater than every string starting with `prefix`, so a prefix scan is
 * the range [prefix, prefixEnd(prefix)). Works on code points because UTF-8 byte order (what
 * SQLite's BINARY collation and PostgreSQL's C collation compare) equals code point order.
 * Returns undefined when no such bound exists (prefix is empty or all U+10FFFF).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      // Surrogate code points cannot appear in well-formed strings, so step over them.
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}

/** True when `key` falls under one of the prefixes (an empty list matches every key). */
export function matchesPrefixes(key: string, prefixes: readonly string[]): boolean {
  return prefixes.length === 0 || prefixes.some((p) => key.startsWith(p));
}

export function checkLimit(limit: number | undefined): void {
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `list limit must be a positive integer, got ${limit}`);
  }
}
