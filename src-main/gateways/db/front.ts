// The client side of a database gateway (docs/database-access.md "Front contract"): the gateway
// answers the local client's opening itself, to learn the db user / db name it asks for, and
// writes refusals in the client's own protocol. One front per protocol (postgres-front.ts,
// mysql-front.ts); the gateway picks one by the db resource's protocol.
import type * as net from 'node:net';

export interface DbLogin {
  dbUser: string;
  dbName?: string;
  /** What the gateway forwards after {"ok":true}: the rewritten StartupMessage / the raw HandshakeResponse41 packet. */
  loginMessage: Buffer;
}

export interface DbClientFront {
  protocol: 'postgres' | 'mysql';
  /**
   * The opening with the local client; undefined when the connection asked for nothing to route
   * (a Postgres CancelRequest), which the gateway then closes. Pinned values win over the client's.
   * Rejects with a GatehouseError (BAD_REQUEST) on a malformed, oversize, closed or slow opening,
   * after telling the client natively where the protocol allows.
   */
  open(
    local: net.Socket,
    pinned: { dbUser?: string; dbName?: string },
    timeoutMs: number,
  ): Promise<DbLogin | undefined>;
  /** A refusal in the client's own protocol, then end. */
  refuse(local: net.Socket, message: string): void;
}

/** Default bound for the whole opening with a local client (it answers at once; a human may type a password). */
export const DEFAULT_FRONT_OPEN_TIMEOUT_MS = 30_000;
