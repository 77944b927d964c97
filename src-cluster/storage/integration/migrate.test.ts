// `gatehouse migrate` end to end: a SQLite cluster store filled by the real stores (users, devices
// with enroll tokens, a lock, thousands of audit events: more than one batch), copied by the real
// CLI into a real PostgreSQL, then read back through the same stores on the PostgreSQL backend.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliSourceArgv } from '../../../test-support/cli-source.ts';
import { startStoragePostgres, type StoragePostgres } from '../../../test-support/databases/storage-postgres.ts';
import { AuditLog } from '../../audit/audit-log.ts';
import { identityStores } from '../../auth/identity-stores.ts';
import { DeviceInventory } from '../../devicetrust/inventory.ts';
import { lockStore } from '../../locks/lock-service.ts';
import { MAX_BATCH_OPS, type Backend } from '../backend.ts';
import { summarise } from '../copy-backend.ts';
import { PostgresBackend } from '../postgres.ts';
import { SqliteBackend } from '../sqlite.ts';

let server: StoragePostgres | undefined;
before(async () => {
  server = await startStoragePostgres();
});
after(() => server?.stop());

const LOCK_NAME = randomUUID();
const AUDIT_EVENTS = 1200; // 3 keys each: more than one MAX_BATCH_OPS batch

function migrateCli(args: string[]) {
  const r = spawnSync(process.execPath, cliSourceArgv('gatehouse', ['migrate', ...args]), {
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** A data dir whose gatehouse.db holds what a cluster in use holds; returns the spare enroll token. */
async function fillCluster(t: TestContext): Promise<{ dataDir: string; token: string; deviceIds: string[] }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-migrate-'));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const backend = await SqliteBackend.open({ path: join(dataDir, 'gatehouse.db') });
  try {
    const { users } = identityStores(backend);
    for (const name of ['alice', 'bob']) {
      await users.create({ kind: 'user', version: 'v2', metadata: { name }, spec: { roles: ['access'] } });
    }
    const inventory = new DeviceInventory(backend);
    const deviceIds: string[] = [];
    for (let i = 0; i < 3; i++)
      deviceIds.push((await inventory.add({ assetTag: `SN-${i}`, osType: 'linux' })).metadata.name);
    const { token } = await inventory.createEnrollToken('SN-1');
    const spent = await inventory.createEnrollToken('SN-2');
    await inventory.spendEnrollToken(spent.token);
    const expires = new Date(Date.now() + 3600_000).toISOString();
    await lockStore(backend).create({
      kind: 'lock',
      version: 'v2',
      metadata: { name: LOCK_NAME },
      spec: { target: { user: 'bob' }, message: 'off-boarding', expires, created_by: 'admin', created_at: expires },
    });
    const audit = new AuditLog(backend);
    for (let i = 0; i < AUDIT_EVENTS; i += 200) {
      await audit.appendMany(
        Array.from({ length: 200 }, (_, j) => ({ type: 'user.login' as const, success: true, user: `u${i + j}` })),
      );
    }
    return { dataDir, token, deviceIds };
  } finally {
    await backend.close();
  }
}

async function readBack(backend: Backend, token: string, deviceIds: string[]): Promise<void> {
  const { users } = identityStores(backend);
  assert.deepEqual((await users.list()).map((u) => u.metadata.name).sort(), ['alice', 'bob']);
  const inventory = new DeviceInventory(backend);
  assert.deepEqual((await inventory.list()).map((d) => d.metadata.name).sort(), [...deviceIds].sort());
  // The enroll token was copied with its hash: it can be spent once on the new backend.
  assert.equal(await inventory.spendEnrollToken(token), deviceIds[1]);
  await assert.rejects(inventory.spendEnrollToken(token), /already used/);
  const lock = await lockStore(backend).get(LOCK_NAME);
  assert.equal(lock.spec.message, 'off-boarding');
  assert.ok(lock.metadata.expires, 'the lock keeps its expiry');
  const audit = new AuditLog(backend);
  let events = 0;
  let cursor: string | undefined;
  do {
    const page = await audit.search({ type: 'user.login', limit: 1000, ...(cursor ? { cursor } : {}) });
    events += page.events.length;
    cursor = page.nextCursor;
  } while (cursor);
  assert.equal(events, AUDIT_EVENTS);
}

test('gatehouse migrate copies users, devices, tokens, locks and audit events, verifies, and refuses a non-empty target', async (t) => {
  if (!server) throw new Error('the PostgreSQL test server did not start (see the before hook error)');
  const { dataDir, token, deviceIds } = await fillCluster(t);
  const url = server.freshDatabase();
  const sourceSummary = await (async () => {
    const source = await SqliteBackend.open({ path: join(dataDir, 'gatehouse.db') });
    try {
      return await summarise(source);
    } finally {
      await source.close();
    }
  })();
  assert.ok(sourceSummary.items > MAX_BATCH_OPS, 'enough items for several batches');

  const first = migrateCli(['--from', `sqlite:${dataDir}`, '--to', url]);
  assert.equal(first.status, 0, first.out);
  assert.match(first.out, new RegExp(`copied ${sourceSummary.items} items in \\d+ batches`));
  assert.match(first.out, new RegExp(`sha256 ${sourceSummary.checksum}`));
  assert.match(first.out, /\/audit: \d+\n/);
  assert.match(
    first.out,
    /into postgres:\/\/gatehouse@127\.0\.0\.1:\d+\/gh_[0-9a-f]+\n/,
    'the target without its parameters',
  );

  const again = migrateCli(['--from', `sqlite:${dataDir}`, '--to', url]);
  assert.notEqual(again.status, 0);
  assert.match(again.out, /target storage is not empty .*--force/);

  const target = await PostgresBackend.open({ connString: url });
  t.after(() => target.close());
  assert.equal((await summarise(target)).checksum, sourceSummary.checksum, 'the refused run changed nothing');
  await readBack(target, token, deviceIds);

  const forced = migrateCli(['--from', `sqlite:${dataDir}`, '--to', url, '--force']);
  assert.equal(forced.status, 0, forced.out);

  const missing = migrateCli(['--from', `sqlite:${join(dataDir, 'nope')}`, '--to', url]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.out, /does not exist/);
  const weak = migrateCli(['--from', `sqlite:${dataDir}`, '--to', url.replace('verify-full', 'require')]);
  assert.notEqual(weak.status, 0);
  assert.match(weak.out, /sslmode=verify-full/);
});
