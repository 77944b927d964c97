// The PostgreSQL backend's schema as numbered migrations. Every auth server runs them at start;
// an advisory lock makes exactly one of several servers starting at once apply each version,
// while the others wait and then find it applied. Versions are only ever appended.
import type { Pool, PoolClient } from 'pg';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

// Keys are compared with the "C" collation (byte order = code point order in UTF-8), as the
// Backend contract and SQLite's BINARY collation sort them. Expiry and event times are Unix
// milliseconds like SQLite's, so both backends share the injectable clock tests use.
// The one-row `gatehouse_revision` is the single revision counter: a write transaction locks it
// first, so revisions are gap-free and commit in order (what the change feed relies on).
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'key-value items, the event log and the revision counter',
    sql: `
      CREATE TABLE gatehouse_kv (
        key TEXT COLLATE "C" PRIMARY KEY,
        value TEXT NOT NULL,
        revision BIGINT NOT NULL,
        expires BIGINT
      );
      CREATE INDEX gatehouse_kv_expires ON gatehouse_kv (expires) WHERE expires IS NOT NULL;
      CREATE TABLE gatehouse_events (
        revision BIGINT PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('put', 'delete')),
        key TEXT COLLATE "C" NOT NULL,
        value TEXT NOT NULL,
        expires BIGINT,
        created BIGINT NOT NULL
      );
      CREATE INDEX gatehouse_events_created ON gatehouse_events (created);
      CREATE TABLE gatehouse_revision (
        only_row BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (only_row),
        value BIGINT NOT NULL
      );
      INSERT INTO gatehouse_revision (value) VALUES (0);
    `,
  },
];

/** Arbitrary but fixed: every Gatehouse process migrating this database takes the same lock. */
export const MIGRATION_LOCK_ID = 0x6761_7465; // "gate"

async function appliedVersions(client: PoolClient): Promise<Set<number>> {
  const { rows } = await client.query<{ version: number }>('SELECT version FROM gatehouse_schema_migrations');
  return new Set(rows.map((r) => Number(r.version)));
}

/**
 * Applies the migrations this database lacks, each in the transaction that records it, under a
 * transaction-level advisory lock (released by commit or rollback, so a crashed migrator never
 * leaves it held). Returns the versions this call applied.
 */
export async function migrate(pool: Pool, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await client.query(`CREATE TABLE IF NOT EXISTS gatehouse_schema_migrations (
      version INTEGER PRIMARY KEY,
      description TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`);
    const have = await appliedVersions(client);
    const newest = Math.max(0, ...have);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) {
      throw new GatehouseError(
        ErrorCode.STORAGE,
        `database schema version ${newest} is newer than this Gatehouse understands (${known}); upgrade Gatehouse`,
      );
    }
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (have.has(m.version)) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO gatehouse_schema_migrations (version, description) VALUES ($1, $2)', [
        m.version,
        m.description,
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
