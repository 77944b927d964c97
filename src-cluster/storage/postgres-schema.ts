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
// One round trip per write, however many ops: the ops arrive as JSON ({t: type, k: key, v: value,
// e: expiry ms, r: expected revision}) and run in the caller's statement, i.e. one transaction.
// Each precondition is the statement itself (INSERT ... ON CONFLICT DO NOTHING for create, UPDATE
// ... WHERE revision for compare-and-swap); a failed one raises GH001 (exists), GH002 (conflict)
// or GH003 (not found) with the op index and the current revision as JSON in DETAIL, which rolls
// the whole call back. Returns [first revision - 1, last revision, one revision per op or null].
const WRITE_FUNCTION = `
  CREATE FUNCTION gatehouse_write(p_ops jsonb, p_now bigint) RETURNS bigint[] LANGUAGE plpgsql AS $fn$
  DECLARE
    v_base bigint;
    v_next bigint;
    v_op jsonb;
    v_i int := 0;
    v_key text;
    v_row gatehouse_kv%ROWTYPE;
    v_current bigint;
    v_out bigint[] := '{}';
  BEGIN
    SELECT value INTO v_base FROM gatehouse_revision FOR UPDATE;
    v_next := v_base + 1;
    -- Expired rows of the keys written go first, each with the delete event a sweep would give.
    FOR v_row IN
      DELETE FROM gatehouse_kv
      WHERE key IN (SELECT o->>'k' FROM jsonb_array_elements(p_ops) o) AND expires <= p_now
      RETURNING *
    LOOP
      INSERT INTO gatehouse_events VALUES (v_next, 'delete', v_row.key, v_row.value, v_row.expires, p_now);
      v_next := v_next + 1;
    END LOOP;
    FOR v_op IN SELECT value FROM jsonb_array_elements(p_ops) LOOP
      v_key := v_op->>'k';
      CASE v_op->>'t'
        WHEN 'put' THEN
          INSERT INTO gatehouse_kv VALUES (v_key, v_op->>'v', v_next, (v_op->>'e')::bigint)
          ON CONFLICT (key) DO UPDATE
            SET value = excluded.value, revision = excluded.revision, expires = excluded.expires;
        WHEN 'create' THEN
          INSERT INTO gatehouse_kv VALUES (v_key, v_op->>'v', v_next, (v_op->>'e')::bigint)
          ON CONFLICT (key) DO NOTHING;
          IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'GH001', MESSAGE = v_key, DETAIL = json_build_object('op', v_i)::text;
          END IF;
        WHEN 'compareAndSwap' THEN
          UPDATE gatehouse_kv SET value = v_op->>'v', revision = v_next, expires = (v_op->>'e')::bigint
          WHERE key = v_key AND revision = (v_op->>'r')::bigint;
          IF NOT FOUND THEN
            SELECT revision INTO v_current FROM gatehouse_kv WHERE key = v_key;
            RAISE EXCEPTION USING ERRCODE = 'GH002', MESSAGE = v_key,
              DETAIL = json_build_object('op', v_i, 'actual', v_current)::text;
          END IF;
        WHEN 'delete' THEN
          DELETE FROM gatehouse_kv WHERE key = v_key RETURNING * INTO v_row;
          IF NOT FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'GH003', MESSAGE = v_key, DETAIL = json_build_object('op', v_i)::text;
          END IF;
          INSERT INTO gatehouse_events VALUES (v_next, 'delete', v_key, v_row.value, v_row.expires, p_now);
        WHEN 'check' THEN
          SELECT revision INTO v_current FROM gatehouse_kv WHERE key = v_key;
          IF v_current IS NULL OR (v_op->>'r' IS NOT NULL AND v_current <> (v_op->>'r')::bigint) THEN
            RAISE EXCEPTION USING ERRCODE = 'GH002', MESSAGE = v_key,
              DETAIL = json_build_object('op', v_i, 'actual', v_current)::text;
          END IF;
      END CASE;
      IF v_op->>'t' IN ('put', 'create', 'compareAndSwap') THEN
        INSERT INTO gatehouse_events VALUES (v_next, 'put', v_key, v_op->>'v', (v_op->>'e')::bigint, p_now);
        v_out := v_out || v_next;
        v_next := v_next + 1;
      ELSIF v_op->>'t' = 'delete' THEN
        v_out := v_out || NULL::bigint;
        v_next := v_next + 1;
      ELSE
        v_out := v_out || NULL::bigint;
      END IF;
      v_i := v_i + 1;
    END LOOP;
    IF v_next > v_base + 1 THEN
      UPDATE gatehouse_revision SET value = v_next - 1;
      PERFORM pg_notify('gatehouse_events', (v_next - 1)::text);
    END IF;
    RETURN ARRAY[v_base, v_next - 1] || v_out;
  END
  $fn$;
`;

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
  {
    version: 2,
    description: 'gatehouse_write: a whole write (ops, expiry, events, counter, NOTIFY) in one call',
    sql: WRITE_FUNCTION,
  },
  {
    version: 3,
    description: 'gatehouse_data_migrations: which one-time item rewrites this database has had',
    sql: `
      CREATE TABLE gatehouse_data_migrations (
        id TEXT PRIMARY KEY,
        description TEXT NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
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
