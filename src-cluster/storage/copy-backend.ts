// Copies every live item of one backend into another (what `gatehouse migrate` runs), in batches
// of at most MAX_BATCH_OPS, then proves the copy: the same keys, values and expiries on both
// sides, compared by count and a SHA-256 over them in key order.
//
// Revisions are not copied: they come from each backend's own counter, so the target numbers the
// items afresh (in key order). Nothing stores a revision inside a value (a resource's revision IS
// its item's revision), so the only effect is that a compare-and-swap holding a revision read
// before the migration gets CONFLICT and re-reads, as after any concurrent edit.
import { createHash } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { MAX_BATCH_OPS, prefixEnd, type Backend, type BatchOp, type Item } from './backend.ts';

/** Every key starts with "/" (checkKey), so this range holds them all. */
const ALL_START = '/';
const ALL_END = prefixEnd('/')!;
const PAGE = 1000;

export interface CopyOptions {
  /** Overwrite keys that exist in a non-empty target (default: refuse a non-empty target). */
  force?: boolean;
  /** Ops per batch, at most MAX_BATCH_OPS. */
  batchSize?: number;
  onProgress?: (copied: number) => void;
}

export interface CopyReport {
  items: number;
  batches: number;
  /** Items per first path segment ("/users", "/audit", ...), for the operator to check. */
  byCollection: Record<string, number>;
  /** SHA-256 (hex) over key, value and expiry of every item, in key order, on both sides. */
  checksum: string;
}

/** All live items in key order, a page at a time (a cluster's audit log can be large). */
export async function* allItems(backend: Backend): AsyncGenerator<Item> {
  let start = ALL_START;
  let skip: string | undefined;
  for (;;) {
    const page = await backend.listRange(start, ALL_END, PAGE + 1);
    const items = skip !== undefined && page[0]?.key === skip ? page.slice(1) : page;
    for (const item of items.slice(0, PAGE)) yield item;
    if (page.length <= PAGE) return;
    // Restart at the last key yielded (inclusive bound) and drop it again.
    const last = items[Math.min(items.length, PAGE) - 1]!;
    start = last.key;
    skip = last.key;
  }
}

function digestLine(item: Item): string {
  return `${JSON.stringify(item.key)} ${JSON.stringify(item.value)} ${item.expires?.getTime() ?? '-'}\n`;
}

function collectionOf(key: string): string {
  const end = key.indexOf('/', 1);
  return end === -1 ? key : key.slice(0, end);
}

/** Count and checksum of `backend`'s items, optionally only the keys in `only`. */
export async function summarise(
  backend: Backend,
  only?: Set<string>,
): Promise<{ items: number; checksum: string; byCollection: Record<string, number> }> {
  const hash = createHash('sha256');
  const byCollection: Record<string, number> = {};
  let items = 0;
  for await (const item of allItems(backend)) {
    if (only && !only.has(item.key)) continue;
    hash.update(digestLine(item));
    const c = collectionOf(item.key);
    byCollection[c] = (byCollection[c] ?? 0) + 1;
    items++;
  }
  return { items, checksum: hash.digest('hex'), byCollection };
}

export async function copyBackend(source: Backend, target: Backend, options: CopyOptions = {}): Promise<CopyReport> {
  const batchSize = options.batchSize ?? MAX_BATCH_OPS;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH_OPS) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `batch size must be 1-${MAX_BATCH_OPS}, got ${batchSize}`);
  }
  const existing = await target.listRange(ALL_START, ALL_END, 1);
  if (existing.length > 0 && !options.force) {
    throw new GatehouseError(
      ErrorCode.CONFLICT,
      `the target storage is not empty (it has ${existing[0]!.key}); migrate into an empty database, or pass --force to overwrite its keys`,
    );
  }
  // With --force a key may exist in the target: put overwrites it. Into an empty target, create
  // makes a key that appeared meanwhile (another writer) fail the copy instead of being overwritten.
  const opType = options.force ? 'put' : 'create';
  const keys = new Set<string>();
  let ops: BatchOp[] = [];
  let batches = 0;
  const flush = async () => {
    if (ops.length === 0) return;
    await target.batch(ops);
    batches++;
    ops = [];
    options.onProgress?.(keys.size);
  };
  for await (const item of allItems(source)) {
    const copy = item.expires
      ? { key: item.key, value: item.value, expires: item.expires }
      : { key: item.key, value: item.value };
    ops.push({ type: opType, item: copy });
    keys.add(item.key);
    if (ops.length >= batchSize) await flush();
  }
  await flush();
  const [from, to] = [await summarise(source, keys), await summarise(target, keys)];
  if (from.items !== to.items || from.checksum !== to.checksum) {
    throw new GatehouseError(
      ErrorCode.STORAGE,
      `copy verification failed: source has ${from.items} items (sha256 ${from.checksum}), ` +
        `target ${to.items} (sha256 ${to.checksum}); was the source written to during the copy?`,
    );
  }
  return { items: to.items, batches, byCollection: to.byCollection, checksum: to.checksum };
}
