// Test-only: a MySQL-protocol client that logs in through a gateway and sends one COM_STMT_PREPARE,
// because the stock `mariadb` client only ever sends COM_QUERY (its PREPARE is SQL text) and the
// audit of prepared statements must be seen end to end. Built on the repository's own packet
// codecs (src-shared/dbproto/mysql.ts); no password (the gateway and database use certificates).
import { connect, type Socket } from 'node:net';
import {
  COM_STMT_PREPARE,
  MYSQL_CHARSET_UTF8MB4,
  MYSQL_SUPPORTED_CAPS,
  encodeMysqlHandshakeResponse,
  encodeMysqlPacket,
  mysqlLoginReplyKind,
  mysqlPacketHeader,
  parseMysqlErr,
  parseMysqlGreeting,
} from '../../../src-shared/dbproto/mysql.ts';

const COM_QUIT = 0x01;
const TIMEOUT_MS = 15_000;

/** Reads whole packets off a socket, one at a time. */
class PacketReader {
  private buf = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;
  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiting?.();
    });
    const fail = (e: Error) => {
      this.failure = e;
      this.waiting?.();
    };
    socket.once('error', fail);
    socket.once('close', () => fail(new Error('the gateway closed the connection')));
  }
  async next(): Promise<{ sequence: number; payload: Buffer }> {
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      if (this.buf.length >= 4) {
        const { length, sequence } = mysqlPacketHeader(this.buf);
        if (this.buf.length >= 4 + length) {
          const payload = this.buf.subarray(4, 4 + length);
          this.buf = this.buf.subarray(4 + length);
          return { sequence, payload };
        }
      }
      if (this.failure) throw this.failure;
      if (Date.now() > deadline) throw new Error('no MySQL packet within 15 s');
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 200);
      });
    }
  }
}

/** Logs in as `user` on `database` through the gateway at `port`, prepares `statement`; the server's verdict. */
export async function mysqlPrepareVia(
  port: number,
  user: string,
  database: string,
  statement: string,
): Promise<{ ok: boolean; message: string }> {
  const socket = connect({ host: '127.0.0.1', port });
  const packets = new PacketReader(socket);
  try {
    const greeting = parseMysqlGreeting((await packets.next()).payload);
    const response = encodeMysqlHandshakeResponse({
      capabilities: MYSQL_SUPPORTED_CAPS & greeting.capabilities,
      maxPacketSize: 16 * 1024 * 1024,
      charset: MYSQL_CHARSET_UTF8MB4,
      user,
      authResponse: Buffer.alloc(0),
      database,
      authPlugin: greeting.authPlugin,
    });
    socket.write(encodeMysqlPacket(1, response));
    for (;;) {
      const reply = await packets.next();
      const kind = mysqlLoginReplyKind(reply.payload);
      if (kind === 'ok') break;
      if (kind === 'err') return { ok: false, message: parseMysqlErr(reply.payload).message };
      // An auth switch: answer with an empty response (no password), as the mariadb client does.
      if (kind === 'switch') socket.write(encodeMysqlPacket(reply.sequence + 1, Buffer.alloc(0)));
    }
    socket.write(
      encodeMysqlPacket(0, Buffer.concat([Buffer.from([COM_STMT_PREPARE]), Buffer.from(statement, 'utf8')])),
    );
    const answer = await packets.next();
    if (answer.payload[0] === 0xff) return { ok: false, message: parseMysqlErr(answer.payload).message };
    return { ok: answer.payload[0] === 0x00, message: `reply 0x${(answer.payload[0] ?? 0).toString(16)}` };
  } finally {
    socket.end(encodeMysqlPacket(0, Buffer.from([COM_QUIT])));
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
