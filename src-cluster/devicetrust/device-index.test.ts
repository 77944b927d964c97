// The device index suite (test-support/device-index-suite.ts) on SQLite: a fresh file per test,
// a second instance on it standing for a second auth server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteBackend } from '../storage/sqlite.ts';
import type { BackendHarness } from '../storage/test-support/conformance-kit.ts';
import { runDeviceIndexSuite } from './test-support/device-index-suite.ts';

const sqlite: BackendHarness = {
  name: 'SQLite',
  async store(t) {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-devindex-'));
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

runDeviceIndexSuite(sqlite);
