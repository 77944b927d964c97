// Knows whether the server is in the middle of answering a COM_QUERY, from the packets the relay
// sees. The engine needs it only to give a lock's ERR packet the sequence number the client
// expects: mid-response that is the next one of the response (the client reads it as an error
// where a row was due), between commands it is 1 (read after the client's next command, which is
// sequence 0). Only the text protocol of COM_QUERY is followed (result sets, multi-results);
// for any other command the answer is "unknown", and the engine falls back to "between commands".
import { COM_QUERY, PayloadReader } from './mysql-packet.ts';

/** Status flag: another result of the same statement follows. */
const SERVER_MORE_RESULTS_EXISTS = 0x0008;

type State =
  | { kind: 'idle' }
  | { kind: 'unknown' }
  | { kind: 'first' }
  | { kind: 'columns'; left: number }
  | { kind: 'columnsEof' }
  | { kind: 'rows' };

export class MysqlResponseTracker {
  private state: State = { kind: 'idle' };

  /** `deprecateEof`: CLIENT_DEPRECATE_EOF was negotiated (no EOF after column definitions; OK ends rows). */
  constructor(private readonly deprecateEof: boolean) {}

  /** True while the server has more of a COM_QUERY response to send. */
  midResponse(): boolean {
    return (
      this.state.kind === 'first' ||
      this.state.kind === 'columns' ||
      this.state.kind === 'columnsEof' ||
      this.state.kind === 'rows'
    );
  }

  /** A whole client packet: sequence 0 starts a command. */
  clientPacket(sequence: number, payloadPrefix: Buffer): void {
    if (sequence !== 0) return;
    this.state = payloadPrefix[0] === COM_QUERY ? { kind: 'first' } : { kind: 'unknown' };
  }

  /** A whole server packet (its first bytes and full length). */
  serverPacket(payloadPrefix: Buffer, length: number): void {
    try {
      this.follow(payloadPrefix, length);
    } catch {
      this.state = { kind: 'unknown' }; // a packet we cannot read: stop guessing until the next command
    }
  }

  private follow(payloadPrefix: Buffer, length: number): void {
    const first = payloadPrefix[0];
    const s = this.state;
    if (s.kind === 'first') {
      if (first === 0x00) this.state = this.afterStatus(okStatus(payloadPrefix));
      else if (first === 0xff) this.state = { kind: 'idle' };
      else if (first === 0xfb)
        this.state = { kind: 'unknown' }; // LOCAL INFILE: never offered
      else {
        const columns = new PayloadReader(payloadPrefix).lenencInt();
        this.state = { kind: 'columns', left: columns };
      }
    } else if (s.kind === 'columns') {
      if (s.left > 1) this.state = { kind: 'columns', left: s.left - 1 };
      else this.state = this.deprecateEof ? { kind: 'rows' } : { kind: 'columnsEof' };
    } else if (s.kind === 'columnsEof') {
      this.state = { kind: 'rows' };
    } else if (s.kind === 'rows') {
      if (first === 0xff) this.state = { kind: 'idle' };
      else if (first === 0xfe && this.endsRows(length)) {
        this.state = this.afterStatus(this.deprecateEof ? okStatus(payloadPrefix) : payloadPrefix.readUInt16LE(3));
      }
    }
  }

  /** An EOF is shorter than 9 bytes; an OK ending rows is shorter than a row that starts with 0xFE would be. */
  private endsRows(length: number): boolean {
    return this.deprecateEof ? length < 0xffffff : length < 9;
  }

  private afterStatus(status: number): State {
    return status & SERVER_MORE_RESULTS_EXISTS ? { kind: 'first' } : { kind: 'idle' };
  }
}

function okStatus(payload: Buffer): number {
  const r = new PayloadReader(payload);
  r.u8();
  r.lenencInt();
  r.lenencInt();
  return r.uint(2);
}
