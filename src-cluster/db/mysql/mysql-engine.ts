// MySQL / MariaDB engine of the db service. The local client already logged in to the gateway's
// front (which answered nothing yet); the engine logs in to the database itself: greeting,
// SSLRequest, TLS (client certificate CN = db user, checked by REQUIRE SUBJECT), then a
// HandshakeResponse41 with the authorized user and database and an empty password. The client's
// capabilities are kept, so after the login both ends speak the same protocol variant; the
// database's OK (or ERR) is then given to the client as the answer to its own login (sequence 2).
import type { Duplex } from 'node:stream';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { OpeningReader } from '../../../src-shared/dbproto/opening-reader.ts';
import {
  ER_CANT_CONNECT,
  ER_CONNECTION_KILLED,
  MysqlPacketFramer,
  encodeMysqlErr,
  encodeMysqlPacket,
  mysqlStatementText,
  type MysqlErr,
} from '../../../src-shared/dbproto/mysql.ts';
import { capStatement } from '../../../src-shared/dbproto/statement.ts';
import { loginToDatabase } from './mysql-login.ts';
import type { DbEngine, DbEngineSession, DbSessionContext } from '../engine.ts';
import { EngineRelay, connectTcp } from '../engine-relay.ts';

/** The client's login was sequence 1; the answer it waits for is 2. */
const LOGIN_ANSWER_SEQUENCE = 2;

export class MysqlEngine implements DbEngine {
  readonly protocol = 'mysql';

  start(ctx: DbSessionContext): DbEngineSession {
    const session = new MysqlSession(ctx);
    return { done: session.run(), terminate: (reason) => session.terminate(reason) };
  }
}

class MysqlSession {
  private relay: EngineRelay | undefined;
  private upstream: Duplex | undefined;
  private terminatedWith: string | undefined;
  /** Who sent the last whole packet, and its sequence: decides the sequence of a lock's ERR. */
  private last: { from: 'client' | 'server'; sequence: number } = { from: 'server', sequence: 0 };

  constructor(private readonly ctx: DbSessionContext) {}

  async run(): Promise<{ bytesIn: number; bytesOut: number }> {
    const { ctx } = this;
    ctx.client.on('error', () => {}); // reported by the relay, or moot once we write an error and close
    try {
      const reader = new OpeningReader(ctx.client, { code: ErrorCode.BAD_REQUEST, peer: 'the gateway' });
      const login = await reader.readMysqlPacket(ctx.upstream.timeoutMs, 'HandshakeResponse41').finally(() => {
        reader.release();
      });
      const { host, port, timeoutMs } = ctx.upstream;
      const deadline = Date.now() + timeoutMs;
      const socket = await connectTcp(host, port, timeoutMs, ctx.database);
      this.upstream = socket;
      const result = await loginToDatabase(socket, login.payload, ctx, deadline, (secure) => (this.upstream = secure));
      if (this.terminatedWith !== undefined) {
        this.upstream?.destroy();
        return this.closeWithErr({ ...ER_CONNECTION_KILLED, message: this.terminatedWith });
      }
      if (result.kind === 'err') {
        this.upstream?.destroy();
        return this.closeWithErr(result.err);
      }
      ctx.client.write(encodeMysqlPacket(LOGIN_ANSWER_SEQUENCE, result.ok));
      return await this.startRelay(this.upstream);
    } catch (err) {
      const message = err instanceof GatehouseError ? err.message : `database ${ctx.database}: ${String(err)}`;
      ctx.log.info('mysql session failed before relaying', { database: ctx.database, error: message });
      this.upstream?.destroy();
      if (this.terminatedWith !== undefined)
        return this.closeWithErr({ ...ER_CONNECTION_KILLED, message: this.terminatedWith });
      return this.closeWithErr({ ...ER_CANT_CONNECT, message });
    }
  }

  terminate(reason: string): void {
    if (this.terminatedWith !== undefined) return;
    this.terminatedWith = reason;
    if (this.relay) this.relay.cut(() => this.killedPacket(reason));
    else this.upstream?.destroy(new Error(reason));
  }

  private startRelay(server: Duplex): Promise<{ bytesIn: number; bytesOut: number }> {
    const { ctx } = this;
    const clientFramer = new MysqlPacketFramer((sequence, payload, length) => {
      this.last = { from: 'client', sequence };
      if (sequence !== 0) return; // a command starts at sequence 0; later ones are its data
      const text = mysqlStatementText(payload);
      if (text !== undefined && text !== '') ctx.onQuery(capStatement(text, length > payload.length));
    });
    const serverFramer = new MysqlPacketFramer((sequence) => (this.last = { from: 'server', sequence }), 0);
    this.relay = new EngineRelay(
      ctx.client,
      server,
      {
        clientChunk: (chunk) => clientFramer.push(chunk),
        serverChunk: (chunk) => serverFramer.push(chunk),
        serverBytesToBoundary: (chunk) => serverFramer.bytesToBoundary(chunk),
      },
      ctx.log,
    );
    return this.relay.done;
  }

  /**
   * ERR 1927 with the sequence number the client will read next. A client waiting for an answer
   * (it spoke last) expects the packet after its own. A client between commands reads the packet
   * only after its next command, which is sequence 0, so it expects 1. (A lock that lands between
   * two packets of one result set is read as sequence 1 mid-result: the client then reports a lost
   * connection instead of the reason, the one case the reason does not get through.)
   */
  private killedPacket(reason: string): Buffer {
    const sequence = this.last.from === 'client' ? this.last.sequence + 1 : 1;
    return encodeMysqlPacket(sequence, encodeMysqlErr({ ...ER_CONNECTION_KILLED, message: reason }));
  }

  private closeWithErr(err: MysqlErr): Promise<{ bytesIn: number; bytesOut: number }> {
    const { client } = this.ctx;
    return new Promise((resolve) => {
      const done = () => resolve({ bytesIn: 0, bytesOut: 0 });
      if (!client.writable) {
        client.destroy();
        return done();
      }
      client.end(encodeMysqlPacket(LOGIN_ANSWER_SEQUENCE, encodeMysqlErr(err)), () => {
        client.destroy();
        done();
      });
      setTimeout(() => {
        client.destroy();
        done();
      }, 2_000).unref();
    });
  }
}
