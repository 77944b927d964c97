// The engines a db service runs with, one per protocol, chosen where the daemon is composed.
// The wire-protocol engines live in postgres/ and mysql/ (docs/database-access.md ownership); a
// protocol without an engine is refused with "this db service has no <protocol> engine" rather
// than relayed as bytes it cannot audit.
import type { DbEngine } from './engine.ts';
import { MysqlEngine } from './mysql/mysql-engine.ts';
import { PostgresEngine } from './postgres/postgres-engine.ts';

export function defaultDbEngines(): DbEngine[] {
  return [new PostgresEngine(), new MysqlEngine()];
}
