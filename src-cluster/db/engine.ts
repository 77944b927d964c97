// The contract between the db service and a database wire protocol (docs/database-access.md
// "Engine contract"). The db service authenticates and authorizes a session, writes the
// {"ok":true} reply, prepares the upstream TLS options, and then hands the client stream to the
// engine for the db's protocol. The engine owns everything protocol-specific from there: reading
// the client's login message, forcing the authorized db user / db name into it, logging in to the
// database, relaying, reporting statements, and ending the session natively on a lock.
import type { Duplex } from 'node:stream';
import type * as tls from 'node:tls';
import type { Logger } from '../log/logger.ts';

/** The protocols a db resource may name (spec.protocol). */
export type DbProtocol = 'postgres' | 'mysql';

/** Where and how the engine connects to the database. */
export interface DbUpstream {
  host: string;
  port: number;
  /**
   * Ready to use: ca (spec.tls.ca_cert or the cluster's database CA), cert/key (client cert with
   * CN = db user from the database CA), servername (spec.tls.server_name or the uri host).
   * The engine must not loosen rejectUnauthorized.
   */
  tls: tls.ConnectionOptions;
  /** Bound for connecting plus the TLS handshake plus the login with the database. */
  timeoutMs: number;
}

export interface DbSessionContext {
  /** Stream from the proxy, after {"ok":true} was written. */
  client: Duplex;
  /** Resource name, for messages. */
  database: string;
  /** Authorized; forced into the login message. */
  dbUser: string;
  dbName?: string;
  /** ca/cert/key/servername ready. */
  upstream: DbUpstream;
  /** One statement the client sent (already capped by the caller's audit); must not block. */
  onQuery(statement: string): void;
  log: Logger;
}

export interface DbEngineSession {
  /** Resolves when both sides are closed; never rejects (failures go to the client natively). */
  done: Promise<{ bytesIn: number; bytesOut: number }>;
  /** Lock: tell the client natively where the protocol allows, then close. */
  terminate(reason: string): void;
}

export interface DbEngine {
  protocol: DbProtocol;
  start(ctx: DbSessionContext): DbEngineSession;
}
