// The engines a db service runs with, one per protocol, chosen where the daemon is composed.
// The wire-protocol engines live in postgres/ and mysql/ (docs/database-access.md ownership);
// until they are part of the build this list is empty and the db service refuses every session
// with "this db service has no <protocol> engine" rather than relaying bytes it cannot audit.
import type { DbEngine } from './engine.ts';

export function defaultDbEngines(): DbEngine[] {
  return [];
}
