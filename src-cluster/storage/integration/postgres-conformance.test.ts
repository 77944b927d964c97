// The storage contract suites (test-support/) against a real PostgreSQL 15 over verify-full TLS:
// each test gets a fresh database; a second instance on it stands for a second auth server.
import { after, before } from 'node:test';
import { startStoragePostgres, type StoragePostgres } from '../../../test-support/databases/storage-postgres.ts';
import { PostgresBackend } from '../postgres.ts';
import { runBackendConformance } from '../test-support/backend-conformance.ts';
import { runBatchConformance } from '../test-support/batch-conformance.ts';
import { runDataMigrationConformance } from '../test-support/data-migration-conformance.ts';
import type { BackendHarness } from '../test-support/conformance-kit.ts';

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

runBackendConformance(postgres);
runBatchConformance(postgres);
runDataMigrationConformance(postgres);
