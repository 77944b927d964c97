// Reads the opening of a database connection (a few length-prefixed packets) from a stream, each
// read bounded in time, and then gives the stream back untouched for the byte relay. The gateway
// fronts and the db service engines read their openings with it, on sockets and on TLS streams.
import type { Duplex } from 'node:stream';
import { ErrorCode, GatehouseError } from '../errors.ts';
import { mysqlPacketHeader, MYSQL_MAX_OPENING_BYTES } from './mysql-packet.ts';

export interface OpeningReaderOptions {
  /** Code of the errors (closed, timed out): BAD_REQUEST for a client, DB_UNREACHABLE for a database. */
  code: ErrorCode;
  /** Who is read, for messages: "the PostgreSQL client", "database orders". */
  peer: string;
}

export class OpeningReader {
  private buffered = Buffer.alloc(0);
  private waiter: (() => void) | undefined;
  private closedWith: string | undefined;
  private readonly onData = (chunk: Buffer) => {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    this.waiter?.();
  };
  private readonly onEnd = () => this.close('closed the connection');
  private readonly onError = (err: Error) => this.close(`connection failed: ${err.message}`);

  constructor(
    private readonly stream: Duplex,
    private readonly opts: OpeningReaderOptions,
  ) {
    stream.on('data', this.onData);
    stream.once('end', this.onEnd);
    stream.once('close', this.onEnd);
    stream.on('error', this.onError);
    stream.resume();
  }

  private close(why: string): void {
    this.closedWith ??= why;
    this.waiter?.();
  }

  /** Exactly `n` bytes; rejects when the peer closes or `timeoutMs` passes first. */
  async read(n: number, timeoutMs: number, what: string): Promise<Buffer> {
    if (this.buffered.length < n) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiter = undefined;
          reject(new GatehouseError(this.opts.code, `${this.opts.peer} sent no ${what} within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          if (this.buffered.length >= n) {
            settle();
            resolve();
          } else if (this.closedWith !== undefined) {
            settle();
            reject(new GatehouseError(this.opts.code, `${this.opts.peer} ${this.closedWith} before its ${what}`));
          }
        };
        const settle = () => {
          clearTimeout(timer);
          this.waiter = undefined;
        };
        this.waiter = check;
        check();
      });
    }
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  /** One MySQL packet: its sequence number and payload (an opening packet, so bounded in size). */
  async readMysqlPacket(timeoutMs: number, what: string): Promise<{ sequence: number; payload: Buffer; raw: Buffer }> {
    const deadline = Date.now() + timeoutMs;
    const header = await this.read(4, timeoutMs, what);
    const { length, sequence } = mysqlPacketHeader(header);
    if (length > MYSQL_MAX_OPENING_BYTES) {
      throw new GatehouseError(
        this.opts.code,
        `${this.opts.peer} sent a ${what} of ${length} bytes (limit ${MYSQL_MAX_OPENING_BYTES})`,
      );
    }
    const payload = await this.read(length, Math.max(1, deadline - Date.now()), what);
    return { sequence, payload, raw: Buffer.concat([header, payload]) };
  }

  /**
   * Stops reading and returns the stream, with any bytes read past the opening put back in front
   * of it, paused, for the relay (which resumes it).
   */
  release(): Duplex {
    this.stream.off('data', this.onData);
    this.stream.off('end', this.onEnd);
    this.stream.off('close', this.onEnd);
    this.stream.off('error', this.onError);
    this.stream.pause();
    if (this.buffered.length > 0) this.stream.unshift(this.buffered);
    this.buffered = Buffer.alloc(0);
    return this.stream;
  }
}
