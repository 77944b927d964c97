// Opens the cluster's storage backend from the daemon config: the one place that knows which
// backend types exist. Everything above it sees only the Backend interface.
import { join } from 'node:path';
import type { Logger } from '../log/logger.ts';
import type { Backend } from '../storage/backend.ts';
import { PostgresBackend } from '../storage/postgres.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import { parseDurationMs, type DaemonConfig } from './config.ts';

export async function openClusterBackend(cfg: DaemonConfig, log: Logger): Promise<Backend> {
  const storageLog = log.child('storage');
  const onBackgroundError = (e: Error) => storageLog.error('storage background task failed', { error: e.message });
  const storage = cfg.storage;
  if (storage.type === 'postgres') {
    // The config schema already refused a postgres config without a valid conn_string.
    const backend = await PostgresBackend.open({
      connString: storage.conn_string!,
      poolSize: storage.pool_size,
      connectTimeoutMs: parseDurationMs(storage.connect_timeout),
      statementTimeoutMs: parseDurationMs(storage.statement_timeout),
      onBackgroundError,
    });
    storageLog.info('cluster storage on PostgreSQL', { target: backend.target, pool_size: storage.pool_size });
    return backend;
  }
  return SqliteBackend.open({ path: storage.path ?? join(cfg.data_dir, 'gatehouse.db'), onBackgroundError });
}
