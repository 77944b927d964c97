// PostgreSQL wire protocol (v3.0) pieces the gateway front and the db service engine need: the
// untyped opening packets (SSLRequest, GSSENCRequest, CancelRequest, StartupMessage), the
// ErrorResponse a refusal is written as, and a framer over the typed messages that follow.
// Hand-written on purpose: node-postgres' pg-protocol parses only server messages, and we need the
// server side of the opening (reading what a client sends) plus a non-blocking observer that never
// holds bytes back from the relay. Pure Buffer code, no I/O.
import { ErrorCode, GatehouseError } from '../errors.ts';
import { STATEMENT_TEXT_LIMIT } from './statement.ts';

/** Upper bound of an opening packet (a StartupMessage is a few hundred bytes in practice). */
export const PG_MAX_STARTUP_BYTES = 64 * 1024;
/** Request codes of the untyped opening packets (protocol.html, "Message Formats"). */
export const PG_SSL_REQUEST_CODE = 80877103;
export const PG_GSSENC_REQUEST_CODE = 80877104;
export const PG_CANCEL_REQUEST_CODE = 80877102;
export const PG_PROTOCOL_3_0 = 196608;

/** SQLSTATEs the gateway and engine write. */
export const PG_SQLSTATE = {
  invalidAuthorization: '28000',
  connectionFailure: '08006',
  protocolViolation: '08P01',
  adminShutdown: '57P01',
} as const;

export type PgOpening =
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel'; processId: number; secretKey: Buffer }
  | { kind: 'startup'; parameters: Map<string, string> };

function protocolError(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, `PostgreSQL client: ${message}`);
}

/**
 * Length of the opening packet whose first 4 bytes are `head` (the length counts itself), checked
 * against the bounds so a reader knows how much more to read before parsing.
 */
export function pgOpeningLength(head: Buffer): number {
  if (head.length < 4) throw protocolError('opening packet shorter than its length field');
  const length = head.readInt32BE(0);
  if (length < 8 || length > PG_MAX_STARTUP_BYTES) {
    throw protocolError(`opening packet length ${length} outside 8..${PG_MAX_STARTUP_BYTES} bytes`);
  }
  return length;
}

/** Parses one whole opening packet (length field included). */
export function parsePgOpening(packet: Buffer): PgOpening {
  const length = pgOpeningLength(packet);
  if (packet.length !== length)
    throw protocolError(`opening packet is ${packet.length} bytes, its length says ${length}`);
  const code = packet.readInt32BE(4);
  if (code === PG_SSL_REQUEST_CODE) return { kind: 'ssl' };
  if (code === PG_GSSENC_REQUEST_CODE) return { kind: 'gssenc' };
  if (code === PG_CANCEL_REQUEST_CODE) {
    if (length < 16) throw protocolError('CancelRequest too short');
    return { kind: 'cancel', processId: packet.readInt32BE(8), secretKey: Buffer.from(packet.subarray(12)) };
  }
  if (code >>> 16 !== 3) {
    throw protocolError(`unsupported protocol version ${code >>> 16}.${code & 0xffff} (only 3.x is spoken)`);
  }
  return { kind: 'startup', parameters: parseStartupParameters(packet.subarray(8)) };
}

function parseStartupParameters(body: Buffer): Map<string, string> {
  const parameters = new Map<string, string>();
  let at = 0;
  for (;;) {
    const keyEnd = body.indexOf(0, at);
    if (keyEnd < 0) throw protocolError('StartupMessage parameters not terminated');
    if (keyEnd === at) break; // the empty name ends the list
    const valueEnd = body.indexOf(0, keyEnd + 1);
    if (valueEnd < 0) throw protocolError('StartupMessage parameter value not terminated');
    parameters.set(body.toString('utf8', at, keyEnd), body.toString('utf8', keyEnd + 1, valueEnd));
    at = valueEnd + 1;
  }
  if (at + 1 !== body.length) throw protocolError('bytes after the end of the StartupMessage parameters');
  return parameters;
}

/** A StartupMessage (protocol 3.0) carrying `parameters` in their order. */
export function encodePgStartup(parameters: ReadonlyMap<string, string>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of parameters) {
    if (key === '' || key.includes('\0') || value.includes('\0')) {
      throw protocolError(`StartupMessage parameter ${JSON.stringify(key)} is empty or contains a NUL byte`);
    }
    parts.push(Buffer.from(`${key}\0${value}\0`, 'utf8'));
  }
  const body = Buffer.concat([...parts, Buffer.from([0])]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(PG_PROTOCOL_3_0, 4);
  const packet = Buffer.concat([head, body]);
  if (packet.length > PG_MAX_STARTUP_BYTES) throw protocolError('StartupMessage too large');
  return packet;
}

/** The parameters with user and database replaced (database defaults to the user, as PostgreSQL's does). */
export function withPgLogin(
  parameters: ReadonlyMap<string, string>,
  login: { user: string; database?: string },
): Map<string, string> {
  const result = new Map(parameters);
  result.set('user', login.user);
  result.set('database', login.database ?? login.user);
  return result;
}

/** An SSLRequest packet, as a client (the engine) sends it to the database. */
export function encodePgSslRequest(): Buffer {
  const packet = Buffer.alloc(8);
  packet.writeInt32BE(8, 0);
  packet.writeInt32BE(PG_SSL_REQUEST_CODE, 4);
  return packet;
}

/** An ErrorResponse ('E') with severity, SQLSTATE and message; libpq prints "SEVERITY:  message". */
export function encodePgError(fields: { severity?: 'FATAL' | 'ERROR'; code: string; message: string }): Buffer {
  const severity = fields.severity ?? 'FATAL';
  const body = Buffer.concat([
    field('S', severity),
    field('V', severity),
    field('C', fields.code),
    field('M', fields.message.replaceAll('\0', ' ')),
    Buffer.from([0]),
  ]);
  const head = Buffer.alloc(5);
  head.write('E', 0, 'latin1');
  head.writeInt32BE(4 + body.length, 1);
  return Buffer.concat([head, body]);
}

function field(type: string, value: string): Buffer {
  return Buffer.from(`${type}${value}\0`, 'utf8');
}

/** Reads the fields of an ErrorResponse/NoticeResponse body (tests and logs). */
export function parsePgErrorFields(body: Buffer): Map<string, string> {
  const fields = new Map<string, string>();
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const end = body.indexOf(0, at + 1);
    if (end < 0) break;
    fields.set(String.fromCharCode(body[at]!), body.toString('utf8', at + 1, end));
    at = end + 1;
  }
  return fields;
}

/**
 * The statement text of a frontend Query ('Q': text\0) or Parse ('P': name\0 text\0 ...) message
 * from the first bytes of its body; undefined for other types. `cut` = the text's terminator is
 * not in `bodyPrefix`, so the text goes on beyond it.
 */
export function pgStatementText(type: string, bodyPrefix: Buffer): { text: string; cut: boolean } | undefined {
  let start = 0;
  if (type === 'P') {
    const nameEnd = bodyPrefix.indexOf(0);
    if (nameEnd < 0) return { text: '', cut: true };
    start = nameEnd + 1;
  } else if (type !== 'Q') {
    return undefined;
  }
  const end = bodyPrefix.indexOf(0, start);
  return { text: bodyPrefix.toString('utf8', start, end < 0 ? bodyPrefix.length : end), cut: end < 0 };
}

/**
 * Follows the typed messages (type byte, int32 length counting itself) of one direction of a
 * PostgreSQL connection after the opening, seeing each chunk once and never holding it back: the
 * relay forwards the chunk itself. Keeps at most `captureLimit` body bytes of the message types in
 * `capture` and hands them to `onMessage` when the message ends, and knows where the next message
 * boundary is (the engine cuts a connection there).
 */
export class PgMessageFramer {
  private header = Buffer.alloc(0); // 0..4 bytes of a partly received header
  private remaining = 0; // body bytes of the current message not seen yet
  private type = '';
  private captured: Buffer[] = [];
  private capturedBytes = 0;
  private bodyLength = 0;

  constructor(
    private readonly capture: ReadonlySet<string>,
    private readonly onMessage: (type: string, bodyPrefix: Buffer, bodyLength: number) => void,
    private readonly captureLimit = STATEMENT_TEXT_LIMIT + 1024,
  ) {}

  /** True between messages: the bytes seen so far end exactly on a message end. */
  atBoundary(): boolean {
    return this.header.length === 0 && this.remaining === 0 && this.type === '';
  }

  /** How many bytes of `chunk` complete the current message (0 at a boundary); -1 if all do not. */
  bytesToBoundary(chunk: Buffer): number {
    if (this.atBoundary()) return 0;
    if (this.type !== '') return this.remaining <= chunk.length ? this.remaining : -1;
    const need = 5 - this.header.length;
    if (chunk.length < need) return -1;
    const length = Buffer.concat([this.header, chunk.subarray(0, need)]).readInt32BE(1);
    const total = need + length - 4;
    return total <= chunk.length ? total : -1;
  }

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.type === '') {
        const take = Math.min(5 - this.header.length, chunk.length - at);
        this.header = Buffer.concat([this.header, chunk.subarray(at, at + take)]);
        at += take;
        if (this.header.length < 5) return;
        const length = this.header.readInt32BE(1);
        if (length < 4) throw protocolError(`message length ${length} below 4`);
        this.type = String.fromCharCode(this.header[0]!);
        this.bodyLength = this.remaining = length - 4;
        this.header = Buffer.alloc(0);
      } else {
        const take = Math.min(this.remaining, chunk.length - at);
        if (this.capture.has(this.type) && this.capturedBytes < this.captureLimit) {
          const keep = chunk.subarray(at, at + Math.min(take, this.captureLimit - this.capturedBytes));
          this.captured.push(Buffer.from(keep));
          this.capturedBytes += keep.length;
        }
        this.remaining -= take;
        at += take;
      }
      if (this.type !== '' && this.remaining === 0) this.finishMessage();
    }
  }

  private finishMessage(): void {
    const type = this.type;
    const body = Buffer.concat(this.captured);
    const bodyLength = this.bodyLength;
    this.type = '';
    this.captured = [];
    this.capturedBytes = 0;
    if (this.capture.has(type)) this.onMessage(type, body, bodyLength);
  }
}
