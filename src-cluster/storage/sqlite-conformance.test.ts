// The storage contract suites (test-support/) against SQLite: each test gets a fresh file in a
// temp dir; a second instance on the same file stands for a second process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBackend } from './sqlite.ts';
import { runBackendConformance } from './test-support/backend-conformance.ts';
import { runBatchConformance } from './test-support/batch-conformance.ts';
import { runDataMigrationConformance } from './test-support/data-migration-conformance.ts';
import type { BackendHarness } from './test-support/conformance-kit.ts';

const sqlite: BackendHarness = {
  name: 'SQLite',
  async store(t) {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-storage-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'gatehouse.db');
    return {
      async open(options = {}) {
        const backend = await SqliteBackend.open({ path, ...options });
        t.after(() => backend.close());
        return backend;
      },
    };
  },
};

runBackendConformance(sqlite);
runBatchConformance(sqlite);
runDataMigrationConformance(sqlite);
