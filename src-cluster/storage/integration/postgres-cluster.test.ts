// A real `gatehouse start` with `storage: {type: postgres}` (the config walkthrough in the README):
// the CAs, users and the audit events of a login land in PostgreSQL, not in the data dir's SQLite.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { startStoragePostgres, type StoragePostgres } from '../../../test-support/databases/storage-postgres.ts';
import { TestCluster } from '../../integration/harness.ts';

let server: StoragePostgres | undefined;
before(async () => {
  server = await startStoragePostgres();
});
after(() => server?.stop());

async function keysUnder(url: string, prefix: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ key: string }>(
      'SELECT key FROM gatehouse_kv WHERE key LIKE $1 ORDER BY key',
      [`${prefix}%`],
    );
    return rows.map((r) => r.key);
  } finally {
    await client.end();
  }
}

test('a cluster configured with storage type postgres keeps its state in PostgreSQL', async (t) => {
  if (!server) throw new Error('the PostgreSQL test server did not start (see the before hook error)');
  const url = server.freshDatabase('cluster');
  const cluster = new TestCluster({
    clusterName: 'pgcluster',
    extraConfig: [
      'storage:',
      '  type: postgres',
      `  conn_string: ${JSON.stringify(url)}`,
      '  audit: { type: postgres }',
    ].join('\n'),
  });
  t.after(() => cluster.destroy());
  await cluster.start();
  const login = cluster.addUserAndLogin('pgalice', 'pgalice-password-1');
  assert.equal(login.status, 0, login.stderr);
  assert.deepEqual(await keysUnder(url, '/users/pgalice'), ['/users/pgalice']);
  assert.ok((await keysUnder(url, '/authorities/')).length > 0, 'the CAs are stored in PostgreSQL');
  assert.ok((await keysUnder(url, '/audit/by_user/pgalice/')).length > 0, 'the login was audited in PostgreSQL');
  const ls = cluster.gatectl(['users', 'ls']);
  assert.equal(ls.status, 0, ls.stderr);
  assert.match(ls.stdout, /pgalice/);
});
