// The PostgreSQL backend's write payloads and their errors (gatehouse_write in postgres-schema.ts),
// and one-time data migrations (Backend.runDataMigration): kept apart from postgres.ts so that
// file stays about the connection, the reads and the change feed.
import type pg from 'pg';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { prefixEnd, type BatchOp, type DataMigration, type Item } from './backend.ts';
import { casConflict, checkOp } from './batch-ops.ts';
import { MIGRATION_LOCK_ID } from './postgres-schema.ts';

export type ItemRow = [key: string, value: string, revision: string, expires: string | null];

export function toItem(row: ItemRow): Item {
  const item: Item = { key: row[0], value: row[1], revision: Number(row[2]) };
  if (row[3] !== null) item.expires = new Date(Number(row[3]));
  return item;
}

export function pgCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined;
}

/**
 * One transaction under the schema migrations' advisory lock (MIGRATION_LOCK_ID): of several auth
 * servers starting at once exactly one applies the migration, the others wait and find it
 * recorded. The ops go through gatehouse_write, so watchers see them like any write; `written`
 * is what the caller's change feed must be told.
 */
export async function runPostgresDataMigration(
  pool: pg.Pool,
  migration: DataMigration,
  now: number,
): Promise<{ applied: boolean; written?: { first: number; last: number; keys: string[] } }> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    const done = await client.query('SELECT 1 FROM gatehouse_data_migrations WHERE id = $1', [migration.id]);
    if (done.rowCount) {
      await client.query('COMMIT');
      return { applied: false };
    }
    const items: Item[] = [];
    for (const prefix of migration.prefixes) {
      const { rows } = await client.query<ItemRow>({
        text: `SELECT key, value, revision, expires FROM gatehouse_kv
          WHERE key >= $1 AND ($3::text IS NULL OR key < $3) AND (expires IS NULL OR expires > $2) ORDER BY key`,
        values: [prefix, now, prefixEnd(prefix) ?? null],
        rowMode: 'array',
      });
      items.push(...rows.map(toItem));
    }
    const ops = migration.plan(items);
    let written: { first: number; last: number; keys: string[] } | undefined;
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
      const [base, last] = [Number(rows[0]!.r[0]), Number(rows[0]!.r[1])];
      if (last > base) written = { first: base + 1, last, keys: payload.map((p) => p.k) };
    }
    await client.query('INSERT INTO gatehouse_data_migrations (id, description) VALUES ($1, $2)', [
      migration.id,
      migration.description,
    ]);
    await client.query('COMMIT');
    return written ? { applied: true, written } : { applied: true };
  } catch (error) {
    broken = await client.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    throw error;
  } finally {
    client.release(broken);
  }
}

/** Ops as gatehouse_write takes them (postgres-schema.ts). */
export function writePayload(ops: BatchOp[], expiries: (number | null)[]) {
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
export function preconditionError(error: unknown, ops: BatchOp[], tagIndex: boolean): unknown {
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
