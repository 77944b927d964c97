// The device index suite (test-support/device-index-suite.ts) on a real PostgreSQL 15 over
// verify-full TLS: a fresh database per test, a second instance on it standing for a second auth
// server, the data migration under the migrations' advisory lock.
import { after, before } from 'node:test';
import { startStoragePostgres, type StoragePostgres } from '../../../test-support/databases/storage-postgres.ts';
import { PostgresBackend } from '../../storage/postgres.ts';
import type { BackendHarness } from '../../storage/test-support/conformance-kit.ts';
import { runDeviceIndexSuite } from '../test-support/device-index-suite.ts';

let pg: StoragePostgres | undefined;
before(async () => {
  pg = await startStoragePostgres();
});
after(() => pg?.stop());

const postgres: BackendHarness = {
  name: 'PostgreSQL',
  async store(t) {
    if (!pg) throw new Error('the PostgreSQL test server did not start (see the before hook error)');
    const connString = pg.freshDatabase();
    return {
      async open(options = {}) {
        const backend = await PostgresBackend.open({ connString, ...options });
        t.after(() => backend.close());
        return backend;
      },
    };
  },
};

runDeviceIndexSuite(postgres);
