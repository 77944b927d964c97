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
      reject(unreachable(database, `TLS with the database failed: ${err.message}`));
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
  private resolveDone!: (totals: RelayTotals) => void;

  constructor(
    private readonly client: Duplex,
    private readonly server: Duplex,
    private readonly observers: RelayObservers,
    private readonly log: Logger,
    private readonly queueLimit = DEFAULT_RELAY_QUEUE_LIMIT,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
    client.on('data', (chunk: Buffer) => {
      this.totals.bytesIn += chunk.length;
      this.observe(() => observers.clientChunk(chunk));
    });
    relayBytes(client, server, queueLimit);
    server.on('data', (chunk: Buffer) => this.fromServer(chunk));
    server.once('end', () => this.finish());
    server.once('close', () => this.finish());
    client.once('close', () => this.finish());
    client.once('end', () => server.end());
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
    if (this.observers.serverBytesToBoundary(Buffer.alloc(0)) === 0) this.cutNow(Buffer.alloc(0));
    else setTimeout(() => this.finish(), TERMINATE_BOUNDARY_WAIT_MS).unref();
  }

  private fromServer(chunk: Buffer): void {
    if (this.finished) return;
    if (this.cutMessage) {
      const upTo = this.observers.serverBytesToBoundary(chunk);
      if (upTo >= 0) return this.cutNow(chunk.subarray(0, upTo));
    }
    this.totals.bytesOut += chunk.length;
    this.observe(() => this.observers.serverChunk(chunk));
    if (!this.client.write(chunk) && this.client.writableLength >= this.queueLimit && !this.server.isPaused()) {
      this.server.pause();
      this.client.once('drain', () => this.server.resume());
    }
  }

  private cutNow(rest: Buffer): void {
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
      this.observers.clientChunk = () => {};
      this.observers.serverChunk = () => {};
    }
  }

  private fail(side: string, err: Error): void {
    this.log.debug('db relay: connection error', { side, error: err.message });
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.server.destroy();
    // End (not destroy) the client so what was written, e.g. a native error, is flushed first.
    this.client.end(() => this.client.destroy());
    setTimeout(() => this.client.destroy(), TERMINATE_BOUNDARY_WAIT_MS).unref();
    this.resolveDone({ ...this.totals });
  }
}
