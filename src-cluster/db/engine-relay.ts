// What the postgres and mysql engines share: connecting to the database (TCP, then TLS once the
// protocol's own SSLRequest was accepted, each step bounded in time) and the relay of a logged-in
// session. The relay copies bytes both ways with back-pressure, shows each chunk to an observer
// per direction (statements for the audit, message boundaries) without holding it back, and on a
// lock cuts the server → client stream at a message boundary, so the protocol-native error the
// engine writes there reaches the client as a message of its own instead of garbling one.
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { DEFAULT_RELAY_QUEUE_LIMIT, relayBytes } from '../../src-shared/byte-relay.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Logger } from '../log/logger.ts';

/** How long a lock waits for the server to reach a message boundary before it closes regardless. */
export const TERMINATE_BOUNDARY_WAIT_MS = 2_000;

export function unreachable(database: string, why: string): GatehouseError {
  return new GatehouseError(ErrorCode.DB_UNREACHABLE, `database ${database}: ${why}`);
}

/** A TCP connection to the database, or DB_UNREACHABLE naming it and the reason. */
export function connectTcp(host: string, port: number, timeoutMs: number, database: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const timer = setTimeout(
      () => fail(new Error(`no TCP connection to ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(unreachable(database, err.message));
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** Node's certificate error codes, in words a database admin recognizes. */
const CERT_ERRORS: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its server certificate is not signed by the CA the database resource trusts',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'its server certificate is not signed by the CA the database resource trusts',
  SELF_SIGNED_CERT_IN_CHAIN: 'its server certificate chains to a CA the database resource does not trust',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its server certificate is self-signed and not trusted by the database resource',
  CERT_HAS_EXPIRED: 'its server certificate has expired',
  CERT_NOT_YET_VALID: 'its server certificate is not valid yet',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its server certificate does not name the server name the database resource expects',
};

/** Why TLS with the database failed: the certificate problem in words when it is one. */
export function describeTlsFailure(err: NodeJS.ErrnoException): string {
  const known = err.code ? CERT_ERRORS[err.code] : undefined;
  if (known) return `${known} (${err.code}: ${err.message}); check spec.tls.ca_cert and spec.tls.server_name`;
  return `TLS with the database failed: ${err.message}`;
}

/** TLS over an already connected socket (after the protocol's SSLRequest), verified per `options`. */
export function upgradeTls(
  socket: net.Socket,
  options: tls.ConnectionOptions,
  timeoutMs: number,
  database: string,
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect({ ...options, socket });
    const timer = setTimeout(() => fail(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      secure.destroy();
      socket.destroy();
      reject(unreachable(database, describeTlsFailure(err)));
    };
    secure.once('error', fail);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.off('error', fail);
      resolve(secure);
    });
  });
}

export interface RelayObservers {
  /** Sees every client → server chunk after it was handed to the server stream. */
  clientChunk(chunk: Buffer): void;
  /** Sees every server → client chunk; its framer says where the next message boundary is. */
  serverChunk(chunk: Buffer): void;
  /** Bytes of `chunk` up to the server's next message boundary (0 at one), -1 when not in it. */
  serverBytesToBoundary(chunk: Buffer): number;
  /** The protocol's native error for a database connection that failed (`why` names the database). */
  lostMessage(why: string): Buffer;
  /**
   * Optional: decides which client bytes may reach the database. A `refuse` answer (the
   * protocol's error for the client) ends the session without the refused bytes being sent.
   */
  clientGate?(chunk: Buffer): { forward: Buffer; refuse?: Buffer };
}

export interface RelayTotals {
  bytesIn: number;
  bytesOut: number;
}

/** Relays client ⇄ server until either side ends; `cut` ends it at a server message boundary. */
export class EngineRelay {
  readonly done: Promise<RelayTotals>;
  private readonly totals: RelayTotals = { bytesIn: 0, bytesOut: 0 };
  private cutMessage: (() => Buffer) | undefined;
  private finished = false;
  /** False once an observer failed to parse: boundaries are then unknown and a cut just closes. */
  private following = true;
  private resolveDone!: (totals: RelayTotals) => void;

  constructor(
    private readonly client: Duplex,
    private readonly server: Duplex,
    private readonly observers: RelayObservers,
    private readonly log: Logger,
    private readonly queueLimit = DEFAULT_RELAY_QUEUE_LIMIT,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    if (observers.clientGate) this.relayGated(observers.clientGate.bind(observers));
    else {
      client.on('data', (chunk: Buffer) => {
        this.totals.bytesIn += chunk.length;
        if (this.following) this.observe(() => observers.clientChunk(chunk));
      });
      relayBytes(client, server, queueLimit);
    }
    server.on('data', (chunk: Buffer) => this.fromServer(chunk));
    server.once('end', () => this.finish());
    server.once('close', () => this.finish());
    client.once('close', () => this.finish());
    client.on('error', (err) => this.fail('client', err));
    server.on('error', (err) => this.fail('database', err));
    server.resume();
  }

  /**
   * Writes `message()` to the client at the next server message boundary (now, when the stream is
   * between messages) and closes both sides; after TERMINATE_BOUNDARY_WAIT_MS closes regardless.
   */
  cut(message: () => Buffer): void {
    if (this.finished || this.cutMessage) return;
    this.cutMessage = message;
    if (!this.following) this.finish();
    else if (this.observers.serverBytesToBoundary(Buffer.alloc(0)) === 0) this.cutNow(Buffer.alloc(0));
    else {
      // The rest of the current message may sit behind back-pressure: read it regardless (at most
      // one message more is written to the client before the cut).
      this.server.resume();
      setTimeout(() => this.finish(), TERMINATE_BOUNDARY_WAIT_MS).unref();
    }
  }

  /** Client → server through the gate, with relayBytes' back-pressure rule. */
  private relayGated(gate: (chunk: Buffer) => { forward: Buffer; refuse?: Buffer }): void {
    const { client, server } = this;
    client.on('data', (chunk: Buffer) => {
      if (this.finished) return;
      const { forward, refuse } = gate(chunk);
      this.totals.bytesIn += forward.length;
      if (this.following) this.observe(() => this.observers.clientChunk(forward));
      if (forward.length > 0 && !server.write(forward) && server.writableLength >= this.queueLimit) {
        client.pause();
        server.once('drain', () => client.resume());
      }
      if (refuse) {
        client.write(refuse);
        this.finish();
      }
    });
    client.once('end', () => server.end());
    client.resume();
  }

  private fromServer(chunk: Buffer): void {
    if (this.finished) return;
    if (this.cutMessage && this.following) {
      const upTo = this.observers.serverBytesToBoundary(chunk);
      if (upTo >= 0) return this.cutNow(chunk.subarray(0, upTo));
    }
    this.totals.bytesOut += chunk.length;
    if (this.following) this.observe(() => this.observers.serverChunk(chunk));
    if (!this.client.write(chunk) && this.client.writableLength >= this.queueLimit && !this.server.isPaused()) {
      this.server.pause();
      this.client.once('drain', () => this.server.resume());
    }
  }

  private cutNow(rest: Buffer): void {
    // The observers see the end of the current message first: the cut message may depend on it
    // (MySQL numbers its packets).
    if (rest.length > 0) this.observe(() => this.observers.serverChunk(rest));
    const message = this.cutMessage!();
    this.totals.bytesOut += rest.length;
    this.client.write(rest);
    this.client.write(message);
    this.finish();
  }

  /** Observers parse; a parse failure must not stop the data path, so it only ends observation. */
  private observe(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.log.warn('db relay: stopped following the protocol', { error: (err as Error).message });
      this.following = false;
    }
  }

  private fail(side: 'client' | 'database', err: Error): void {
    this.log.debug('db relay: connection error', { side, error: err.message });
    // A database connection that breaks (reset, TLS failure) tells the client why, where the
    // stream allows a message of ours; a database that ends cleanly has said its own last word.
    const atBoundary = this.following && this.observers.serverBytesToBoundary(Buffer.alloc(0)) === 0;
    if (side === 'database' && !this.finished && !this.cutMessage && atBoundary) {
      this.client.write(this.observers.lostMessage(`connection to the database lost: ${err.message}`));
    }
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.server.destroy();
    // End (not destroy) the client so what was written, e.g. a native error, is flushed first, and
    // resolve `done` only once it is closed: the db service destroys the client stream on `done`.
    this.client.end(() => this.client.destroy());
    const timer = setTimeout(() => this.client.destroy(), TERMINATE_BOUNDARY_WAIT_MS);
    const settle = () => {
      clearTimeout(timer);
      this.resolveDone({ ...this.totals });
    };
    if (this.client.closed) settle();
    else this.client.once('close', settle);
  }
}
