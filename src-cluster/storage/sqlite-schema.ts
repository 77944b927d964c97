// The SQLite backend's file and schema: created private (it holds CA keys), tables made by the
// first process to open it, the schema version in user_version.
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type Database from 'better-sqlite3';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

// 2: data_migrations (which one-time item rewrites this file has had; see runDataMigration).
const SCHEMA_VERSION = 2;

export function createPrivateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  // An existing file may have been created looser; SQLite gives its -wal/-shm files the
  // database file's mode, so fixing the main file covers those too.
  chmodSync(path, 0o600);
}

export function prepareSchema(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) {
    throw new GatehouseError(
      ErrorCode.STORAGE,
      `database schema version ${version} is newer than this Gatehouse understands (${SCHEMA_VERSION}); upgrade Gatehouse`,
    );
  }
  // Two processes may open a fresh file at once; the write lock makes one of them create it.
  db.transaction(() => {
    db.exec(`
      CREATE TABLE IF NOT EXISTS kv (
        key TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL,
        revision INTEGER NOT NULL,
        expires INTEGER
      );
      CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL;
      CREATE TABLE IF NOT EXISTS events (
        revision INTEGER PRIMARY KEY,
        type TEXT NOT NULL CHECK (type IN ('put', 'delete')),
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        expires INTEGER,
        created INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_created ON events (created);
      CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL);
      INSERT OR IGNORE INTO meta (name, value) VALUES ('revision', 0);
      CREATE TABLE IF NOT EXISTS data_migrations (
        id TEXT PRIMARY KEY NOT NULL,
        description TEXT NOT NULL,
        applied INTEGER NOT NULL
      );
      PRAGMA user_version = ${SCHEMA_VERSION};
    `);
  }).immediate();
}
