// The engines a db service runs with, one per protocol, chosen where the daemon is composed.
// The wire-protocol engines live in postgres/ and mysql/ (docs/database-access.md ownership).
import type { DbEngine } from './engine.ts';
import { MysqlEngine } from './mysql/mysql-engine.ts';
import { PostgresEngine } from './postgres/postgres-engine.ts';

export function defaultDbEngines(): DbEngine[] {
  return [new PostgresEngine(), new MysqlEngine()];
}
