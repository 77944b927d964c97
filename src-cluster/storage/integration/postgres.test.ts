// PostgreSQL-only behaviour, against a real PostgreSQL 15 with several Backend instances on one
// database standing for several auth servers: the change feed across instances, races decided by
// the database, migrations under concurrent start-up, resync after a dropped LISTEN connection,
// TLS verify-full, and expiry sweeps running in every instance at once.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { startStoragePostgres, type StoragePostgres } from '../../../test-support/databases/storage-postgres.ts';
import { until } from '../../../test-support/until.ts';
import { PostgresBackend, type PostgresBackendOptions } from '../postgres.ts';
import { MIGRATIONS, migrate } from '../postgres-schema.ts';
import { reader, summary } from '../test-support/conformance-kit.ts';

let server: StoragePostgres | undefined;
before(async () => {
  server = await startStoragePostgres();
});
after(() => server?.stop());

function pgServer(): StoragePostgres {
  if (!server) throw new Error('the PostgreSQL test server did not start (see the before hook error)');
  return server;
}

async function open(
  t: TestContext,
  connString: string,
  options: Partial<PostgresBackendOptions> = {},
): Promise<PostgresBackend> {
  const backend = await PostgresBackend.open({ connString, ...options });
  t.after(() => backend.close());
  return backend;
}

/** Runs SQL on `url`'s database as the gatehouse role (what an operator's psql would do). */
async function sql<T extends pg.QueryResultRow>(url: string, text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

test("writes from two instances reach a third one's watcher gap-free and in revision order", async (t) => {
  const url = pgServer().freshDatabase();
  const [a, b, c] = [await open(t, url), await open(t, url), await open(t, url, { pollIntervalMs: 60_000 })];
  const events = reader(c.watch(['/locks/']));
  const init = await events.next();
  assert.equal(init.type, 'init');
  const perWriter = 40;
  await Promise.all(
    [a, b].map(async (writer, w) => {
      for (let i = 0; i < perWriter; i++) {
        if (i % 4 === 3) {
          await writer.batch([
            { type: 'put', item: { key: `/locks/w${w}-${i}`, value: 'batched' } },
            { type: 'put', item: { key: `/audit/w${w}-${i}`, value: 'unwatched' } },
          ]);
        } else await writer.put({ key: `/locks/w${w}-${i}`, value: 'single' });
      }
    }),
  );
  const seen = [];
  for (let i = 0; i < 2 * perWriter; i++) seen.push(await events.next());
  const revisions = seen.map((e) => (e.type === 'init' ? -1 : e.item.revision));
  assert.deepEqual(
    revisions,
    [...revisions].sort((x, y) => x - y),
    'delivered in revision order',
  );
  assert.equal(new Set(seen.map(summary)).size, 2 * perWriter, 'every write once');
  const [head] = await sql<{ value: string }>(url, 'SELECT value FROM gatehouse_revision');
  const [count] = await sql<{ n: string }>(url, 'SELECT count(*) AS n FROM gatehouse_events');
  assert.equal(Number(head!.value), Number(count!.n), 'one event per revision: the counter has no gaps');
});

test('two instances incrementing one counter with CAS lose no update', async (t) => {
  const url = pgServer().freshDatabase();
  const [a, b] = [await open(t, url), await open(t, url)];
  await a.put({ key: '/counter', value: '0' });
  const times = 60;
  const conflicts = await Promise.all(
    [a, b].map(async (backend) => {
      let lost = 0;
      for (let i = 0; i < times; i++) {
        for (;;) {
          const current = (await backend.get('/counter'))!;
          try {
            await backend.compareAndSwap(current, { key: '/counter', value: String(Number(current.value) + 1) });
            break;
          } catch (e) {
            if (!(e instanceof GatehouseError && e.code === ErrorCode.CONFLICT)) throw e;
            lost++;
          }
        }
      }
      return lost;
    }),
  );
  assert.equal((await b.get('/counter'))?.value, String(2 * times));
  assert.ok(conflicts[0]! + conflicts[1]! > 0, `expected some CAS conflicts between instances, got ${conflicts}`);
});

test('migrations run once when several servers start on an empty database at the same moment', async (t) => {
  const url = pgServer().freshDatabase();
  const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 2 }));
  t.after(() => Promise.all(pools.map((p) => p.end())));
  const applied = await Promise.all(pools.map((p) => migrate(p)));
  assert.deepEqual(applied.map((v) => v.join(',')).sort(), ['', '', '', MIGRATIONS.map((m) => m.version).join(',')]);
  const rows = await sql<{ version: number }>(url, 'SELECT version FROM gatehouse_schema_migrations ORDER BY version');
  assert.deepEqual(
    rows.map((r) => r.version),
    MIGRATIONS.map((m) => m.version),
  );
  // A database migrated by a newer Gatehouse is refused rather than misread.
  await sql(url, "INSERT INTO gatehouse_schema_migrations (version, description) VALUES (999, 'from the future')");
  await assert.rejects(
    PostgresBackend.open({ connString: url }),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.STORAGE && /999 is newer/.test(e.message),
  );
});

test('a dropped LISTEN connection is re-opened and the writes made meanwhile are replayed', async (t) => {
  const url = pgServer().freshDatabase();
  const writer = await open(t, url);
  // No safety-net polling: only the reconnect's replay can deliver what was written while cut.
  const watching = await open(t, url, { pollIntervalMs: 60_000, reconnectDelayMs: 500 });
  const events = reader(watching.watch(['/roles/']));
  await events.next();
  const firstPid = await until('the LISTEN connection', () => watching.listenerPid);
  await sql(url, 'SELECT pg_terminate_backend($1)', [firstPid]);
  await until('the LISTEN connection to drop', () => (watching.listenerPid === undefined ? true : undefined), 5000);
  await writer.put({ key: '/roles/during-outage', value: '1' });
  await writer.put({ key: '/roles/during-outage-2', value: '2' });
  assert.deepEqual([await events.next(5000), await events.next(5000)].map(summary), [
    'put /roles/during-outage=1',
    'put /roles/during-outage-2=2',
  ]);
  assert.notEqual(watching.listenerPid, firstPid, 'a new LISTEN connection');
  await writer.put({ key: '/roles/after', value: '3' });
  assert.equal(summary(await events.next()), 'put /roles/after=3', 'NOTIFY works again on the new connection');
});

test('after every connection was cut (as in a database restart) writes and watchers carry on', async (t) => {
  const url = pgServer().freshDatabase();
  const errors: string[] = [];
  const options = { pollIntervalMs: 60_000, onBackgroundError: (e: GatehouseError) => errors.push(e.message) };
  const [a, b] = [await open(t, url, options), await open(t, url, options)];
  const events = reader(b.watch(['/locks/']));
  await events.next();
  await a.put({ key: '/locks/before', value: '1' });
  assert.equal(summary(await events.next()), 'put /locks/before=1');
  const firstPid = await until('the LISTEN connection', () => b.listenerPid);
  await sql(
    url,
    'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  await until(
    'a new LISTEN connection',
    () => (b.listenerPid !== undefined && b.listenerPid !== firstPid ? true : undefined),
    5000,
  );
  await a.put({ key: '/locks/after', value: '2' });
  assert.equal(summary(await events.next(5000)), 'put /locks/after=2', 'the same watcher, no re-create');
  assert.equal((await b.get('/locks/after'))?.value, '2');
  assert.ok(
    errors.some((m) => /terminat/.test(m)),
    `the cut was reported: ${errors.join('; ')}`,
  );
});

test('a watcher whose missed events were pruned during the outage fails with "re-create"', async (t) => {
  const url = pgServer().freshDatabase();
  let now = Date.now();
  const writer = await open(t, url, { now: () => now, eventRetentionMs: 1000, sweepIntervalMs: 60_000 });
  const watching = await open(t, url, { pollIntervalMs: 60_000, reconnectDelayMs: 1500 });
  const events = reader(watching.watch([]));
  await events.next();
  const pid = await until('the LISTEN connection', () => watching.listenerPid);
  await sql(url, 'SELECT pg_terminate_backend($1)', [pid]);
  await until('the LISTEN connection to drop', () => (watching.listenerPid === undefined ? true : undefined), 5000);
  await writer.put({ key: '/a', value: '1' });
  now += 5000;
  await writer.sweepExpired(); // prunes the event for /a before `watching` is back
  await assert.rejects(
    events.next(5000),
    (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.STORAGE && /re-create/.test(e.message),
  );
});

test("TLS: verify-full with the server's CA connects over TLS; another CA or a weaker sslmode is refused", async (t) => {
  const pgs = pgServer();
  const url = pgs.freshDatabase();
  const backend = await open(t, url);
  await backend.put({ key: '/k', value: 'v' });
  const [ssl] = await sql<{ ssl: boolean }>(url, 'SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
  assert.equal(ssl?.ssl, true);
  const database = new URL(url).pathname.slice(1);
  await assert.rejects(
    PostgresBackend.open({ connString: pgs.url(database, { sslrootcert: pgs.wrongCaFile }), connectTimeoutMs: 5000 }),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === ErrorCode.STORAGE &&
      /certificate/.test(e.message) &&
      /sslrootcert/.test(e.message),
  );
  for (const sslmode of ['require', 'verify-ca', 'disable', 'prefer']) {
    await assert.rejects(
      PostgresBackend.open({ connString: pgs.url(database, { sslmode }) }),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.CONFIG && /verify-full/.test(e.message),
      sslmode,
    );
  }
});

test('expiry sweeps running in every instance at once delete each item once', async (t) => {
  const url = pgServer().freshDatabase();
  let now = Date.parse('2031-01-01T00:00:00Z');
  const options = { now: () => now, sweepIntervalMs: 60_000 };
  const instances = [await open(t, url, options), await open(t, url, options), await open(t, url, options)];
  const events = reader(instances[0]!.watch(['/sessions/']));
  await events.next();
  const count = 30;
  await instances[0]!.batch(
    Array.from({ length: count }, (_, i) => ({
      type: 'put' as const,
      item: { key: `/sessions/s${i}`, value: String(i), expires: new Date(now + 1000) },
    })),
  );
  for (let i = 0; i < count; i++) await events.next();
  now += 1000;
  const swept = await Promise.all(instances.map((b) => b.sweepExpired()));
  assert.equal(
    swept.reduce((x, y) => x + y, 0),
    count,
    `swept per instance: ${swept}`,
  );
  const deletes = new Set<string>();
  for (let i = 0; i < count; i++) deletes.add(summary(await events.next()));
  assert.equal(deletes.size, count);
  assert.equal((await instances[1]!.listPrefix('/sessions/')).length, 0);
});
