// The PostgreSQL backend's statements other than writes (those are gatehouse_write, in
// postgres-schema.ts). Expiry is compared in SQL against the caller's clock ($2 = now in ms), so
// every instance and the tests' injected clocks agree with SQLite's behaviour.
const LIVE = '(expires IS NULL OR expires > $2)';
export const SQL = {
  get: `SELECT key, value, revision, expires FROM gatehouse_kv WHERE key = $1 AND ${LIVE}`,
  range: `SELECT key, value, revision, expires FROM gatehouse_kv
    WHERE key >= $1 AND key < $3 AND ${LIVE} ORDER BY key LIMIT $4`,
  from: `SELECT key, value, revision, expires FROM gatehouse_kv WHERE key >= $1 AND ${LIVE} ORDER BY key LIMIT $3`,
  begin: 'BEGIN; SELECT value FROM gatehouse_revision FOR UPDATE',
  removeRange: `WITH d AS (
      DELETE FROM gatehouse_kv WHERE key >= $1 AND key < $2 RETURNING key, value, expires
    ), ordered AS (SELECT key, value, expires, row_number() OVER (ORDER BY key) AS n FROM d)
    INSERT INTO gatehouse_events (revision, type, key, value, expires, created)
    SELECT $3 + n - 1, 'delete', key, value, expires, $4 FROM ordered
    RETURNING key, (expires IS NULL OR expires > $4) AS live`,
  removeExpired: `WITH d AS (
      DELETE FROM gatehouse_kv WHERE key IN (
        SELECT key FROM gatehouse_kv WHERE expires <= $1 ORDER BY expires, key LIMIT $2)
      RETURNING key, value, expires
    ), ordered AS (SELECT key, value, expires, row_number() OVER (ORDER BY expires, key) AS n FROM d)
    INSERT INTO gatehouse_events (revision, type, key, value, expires, created)
    SELECT $3 + n - 1, 'delete', key, value, expires, $1 FROM ordered RETURNING key`,
  pruneEvents: 'DELETE FROM gatehouse_events WHERE created < $1',
  sweepDue: `SELECT EXISTS (SELECT 1 FROM gatehouse_kv WHERE expires <= $1)
    OR EXISTS (SELECT 1 FROM gatehouse_events WHERE created < $2) AS due`,
};
