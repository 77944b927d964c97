// MySQL / MariaDB client/server protocol pieces the gateway front and the db service engine need:
// packet framing, the server greeting (Initial Handshake v10), HandshakeResponse41, SSLRequest,
// OK / ERR, AuthSwitchRequest and the statement text of COM_QUERY / COM_STMT_PREPARE.
// Hand-written on purpose: mysql2's server side is undocumented and we must play both roles of
// the opening byte-exactly (a greeting to the local client, a login to the database), plus a
// framer that observes a relayed stream without holding any byte back. Pure Buffer code, no I/O.
import { ErrorCode, GatehouseError } from '../errors.ts';

/** A payload of this length continues in the next packet (16 MiB - 1). */
export const MYSQL_MAX_PAYLOAD = 0xffffff;
/** Upper bound of an opening packet (greeting, login, auth switch) we read. */
export const MYSQL_MAX_OPENING_BYTES = 64 * 1024;

export const CLIENT = {
  LONG_PASSWORD: 1,
  FOUND_ROWS: 2,
  LONG_FLAG: 4,
  CONNECT_WITH_DB: 8,
  COMPRESS: 32,
  LOCAL_FILES: 128,
  IGNORE_SPACE: 256,
  PROTOCOL_41: 512,
  INTERACTIVE: 1024,
  SSL: 2048,
  TRANSACTIONS: 8192,
  SECURE_CONNECTION: 32768,
  MULTI_STATEMENTS: 1 << 16,
  MULTI_RESULTS: 1 << 17,
  PS_MULTI_RESULTS: 1 << 18,
  PLUGIN_AUTH: 1 << 19,
  CONNECT_ATTRS: 1 << 20,
  PLUGIN_AUTH_LENENC_CLIENT_DATA: 1 << 21,
  SESSION_TRACK: 1 << 23,
  DEPRECATE_EOF: 1 << 24,
} as const;

/**
 * The capabilities the gateway offers the local client and the engine passes on: ones MariaDB
 * 10.11 and MySQL 8 both implement. Not SSL (the local leg is loopback; TLS is the engine's),
 * not COMPRESS (the engine frames packets), not LOCAL_FILES (a server could read client files).
 */
export const MYSQL_SUPPORTED_CAPS =
  CLIENT.LONG_PASSWORD |
  CLIENT.FOUND_ROWS |
  CLIENT.LONG_FLAG |
  CLIENT.CONNECT_WITH_DB |
  CLIENT.IGNORE_SPACE |
  CLIENT.PROTOCOL_41 |
  CLIENT.INTERACTIVE |
  CLIENT.TRANSACTIONS |
  CLIENT.SECURE_CONNECTION |
  CLIENT.MULTI_STATEMENTS |
  CLIENT.MULTI_RESULTS |
  CLIENT.PS_MULTI_RESULTS |
  CLIENT.PLUGIN_AUTH |
  CLIENT.CONNECT_ATTRS |
  CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA |
  CLIENT.SESSION_TRACK |
  CLIENT.DEPRECATE_EOF;

export const COM_QUERY = 0x03;
export const COM_STMT_PREPARE = 0x16;
export const MYSQL_NATIVE_PASSWORD = 'mysql_native_password';
/** utf8mb4_general_ci: understood by both servers. */
export const MYSQL_CHARSET_UTF8MB4 = 45;
export const SERVER_STATUS_AUTOCOMMIT = 0x0002;
export const ER_ACCESS_DENIED = { errno: 1045, sqlState: '28000' } as const;
/** ER_CONNECTION_KILLED, what a server sends a connection it ends. */
export const ER_CONNECTION_KILLED = { errno: 1927, sqlState: '08S01' } as const;
/**
 * ER_CONNECT_TO_FOREIGN_DATA_SOURCE: a failure between the db service and the database. Not a
 * 2xxx code (CR_CONN_HOST_ERROR): libmariadb takes a server ERR in the client range for a
 * malformed packet and drops its message.
 */
export const ER_CANT_CONNECT = { errno: 1429, sqlState: 'HY000' } as const;

function protocolError(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, `MySQL protocol: ${message}`);
}

// --- packets ---------------------------------------------------------------------------------

/** One packet (header + payload); a payload of 16 MiB - 1 or more is split into continuations. */
export function encodeMysqlPacket(sequence: number, payload: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  let seq = sequence;
  for (;;) {
    const size = Math.min(MYSQL_MAX_PAYLOAD, payload.length - at);
    const header = Buffer.alloc(4);
    header.writeUIntLE(size, 0, 3);
    header[3] = seq & 0xff;
    parts.push(header, payload.subarray(at, at + size));
    at += size;
    seq++;
    if (size < MYSQL_MAX_PAYLOAD) return Buffer.concat(parts);
  }
}

/** The header fields of a packet whose first 4 bytes are `header`. */
export function mysqlPacketHeader(header: Buffer): { length: number; sequence: number } {
  if (header.length < 4) throw protocolError('packet header shorter than 4 bytes');
  return { length: header.readUIntLE(0, 3), sequence: header[3]! };
}

// --- length-encoded values -------------------------------------------------------------------

/** A cursor over a payload; every read checks the bounds so a short packet is a clear error. */
export class PayloadReader {
  constructor(
    readonly buf: Buffer,
    public at = 0,
  ) {}
  get left(): number {
    return this.buf.length - this.at;
  }
  bytes(n: number): Buffer {
    if (n > this.left) throw protocolError(`packet ends ${n - this.left} bytes early`);
    const out = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  u8(): number {
    return this.bytes(1)[0]!;
  }
  uint(n: number): number {
    return this.bytes(n).readUIntLE(0, n);
  }
  lenencInt(): number {
    const first = this.u8();
    if (first < 0xfb) return first;
    if (first === 0xfc) return this.uint(2);
    if (first === 0xfd) return this.uint(3);
    if (first === 0xfe) {
      const value = this.bytes(8).readBigUInt64LE(0);
      if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw protocolError('length-encoded integer too large');
      return Number(value);
    }
    throw protocolError(`invalid length-encoded integer prefix 0x${first.toString(16)}`);
  }
  lenencBytes(): Buffer {
    return this.bytes(this.lenencInt());
  }
  nulString(): string {
    const end = this.buf.indexOf(0, this.at);
    if (end < 0) throw protocolError('string not NUL-terminated');
    const text = this.buf.toString('utf8', this.at, end);
    this.at = end + 1;
    return text;
  }
  rest(): Buffer {
    return this.bytes(this.left);
  }
}

export function lenencInt(value: number): Buffer {
  if (value < 0xfb) return Buffer.from([value]);
  if (value <= 0xffff) return Buffer.from([0xfc, value & 0xff, value >> 8]);
  if (value <= 0xffffff) return Buffer.from([0xfd, value & 0xff, (value >> 8) & 0xff, value >> 16]);
  const out = Buffer.alloc(9);
  out[0] = 0xfe;
  out.writeBigUInt64LE(BigInt(value), 1);
  return out;
}

export function lenencBytes(value: Buffer): Buffer {
  return Buffer.concat([lenencInt(value.length), value]);
}

export function nulString(value: string): Buffer {
  if (value.includes('\0')) throw protocolError('string contains a NUL byte');
  return Buffer.from(`${value}\0`, 'utf8');
}

/**
 * Follows the packets of one direction of a relayed MySQL connection, seeing each chunk once and
 * never holding it back (the relay forwards the chunk itself). Hands each packet's sequence
 * number, its first `captureLimit` payload bytes and its length to `onPacket`, and knows where the
 * next packet boundary is (the engine cuts a connection there).
 */
export class MysqlPacketFramer {
  private header = Buffer.alloc(0);
  private remaining = 0;
  private inPayload = false;
  private sequence = 0;
  private length = 0;
  private captured: Buffer[] = [];
  private capturedBytes = 0;
  /** Sequence number of the last whole packet, -1 before the first. */
  lastSequence = -1;

  constructor(
    private readonly onPacket: (sequence: number, payloadPrefix: Buffer, payloadLength: number) => void,
    private readonly captureLimit = 17 * 1024,
  ) {}

  atBoundary(): boolean {
    return !this.inPayload && this.header.length === 0;
  }

  /** How many bytes of `chunk` complete the current packet (0 at a boundary); -1 if all do not. */
  bytesToBoundary(chunk: Buffer): number {
    if (this.atBoundary()) return 0;
    if (this.inPayload) return this.remaining <= chunk.length ? this.remaining : -1;
    const need = 4 - this.header.length;
    if (chunk.length < need) return -1;
    const total = need + Buffer.concat([this.header, chunk.subarray(0, need)]).readUIntLE(0, 3);
    return total <= chunk.length ? total : -1;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (!this.inPayload) {
        const take = Math.min(4 - this.header.length, chunk.length - at);
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + take)]);
        at += take;
        if (this.header.length < 4) return;
        ({ length: this.length, sequence: this.sequence } = mysqlPacketHeader(this.header));
        this.remaining = this.length;
        this.inPayload = true;
        this.header = Buffer.alloc(0);
      } else {
        const take = Math.min(this.remaining, chunk.length - at);
        if (this.capturedBytes < this.captureLimit) {
          const keep = chunk.subarray(at, at + Math.min(take, this.captureLimit - this.capturedBytes));
          this.captured.push(Buffer.from(keep));
          this.capturedBytes += keep.length;
        }
        this.remaining -= take;
        at += take;
      }
      if (this.inPayload && this.remaining === 0) {
        const payload = Buffer.concat(this.captured);
        this.inPayload = false;
        this.captured = [];
        this.capturedBytes = 0;
        this.lastSequence = this.sequence;
        this.onPacket(this.sequence, payload, this.length);
      }
    }
  }
}
