// PostgreSQL engine of the db service: reads the StartupMessage the gateway forwarded, forces the
// authorized user and database into it, opens TLS to the database the PostgreSQL way (SSLRequest,
// then 'S' and a TLS handshake on the same socket; the client certificate's CN is the db user,
// which pg_hba `cert` checks), sends the startup and relays. The database's own authentication
// messages, ParameterStatus and errors flow to the client unchanged.
import type { Duplex } from 'node:stream';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { OpeningReader } from '../../../src-shared/dbproto/opening-reader.ts';
import {
  PG_SQLSTATE,
  PgMessageFramer,
  encodePgError,
  encodePgSslRequest,
  encodePgStartup,
  parsePgOpening,
  pgOpeningLength,
  pgStatementText,
  withPgLogin,
} from '../../../src-shared/dbproto/postgres.ts';
import { capStatement } from '../../../src-shared/dbproto/statement.ts';
import type { DbEngine, DbEngineSession, DbSessionContext } from '../engine.ts';
import { EngineRelay, connectTcp, unreachable, upgradeTls } from '../engine-relay.ts';

const STATEMENT_TYPES: ReadonlySet<string> = new Set(['Q', 'P']);

export class PostgresEngine implements DbEngine {
  readonly protocol = 'postgres';

  start(ctx: DbSessionContext): DbEngineSession {
    const session = new PostgresSession(ctx);
    return { done: session.run(), terminate: (reason) => session.terminate(reason) };
  }
}

class PostgresSession {
  private relay: EngineRelay | undefined;
  private upstream: Duplex | undefined;
  private terminatedWith: string | undefined;

  constructor(private readonly ctx: DbSessionContext) {}

  async run(): Promise<{ bytesIn: number; bytesOut: number }> {
    const { ctx } = this;
    ctx.client.on('error', () => {}); // reported by the relay, or moot once we write an error and close
    try {
      const startup = await this.readStartup();
      const server = await this.login(startup);
      if (this.terminatedWith !== undefined) {
        server.destroy();
        return this.closeWithError(PG_SQLSTATE.adminShutdown, this.terminatedWith);
      }
      const clientFramer = new PgMessageFramer(STATEMENT_TYPES, (type, body) => this.report(type, body));
      const serverFramer = new PgMessageFramer(new Set(), () => {});
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
      return await this.relay.done;
    } catch (err) {
      const message = err instanceof GatehouseError ? err.message : `database ${ctx.database}: ${String(err)}`;
      ctx.log.info('postgres session failed before relaying', { database: ctx.database, error: message });
      this.upstream?.destroy();
      const code =
        err instanceof GatehouseError && err.code === ErrorCode.BAD_REQUEST
          ? PG_SQLSTATE.protocolViolation
          : PG_SQLSTATE.connectionFailure;
      return this.closeWithError(code, this.terminatedWith ?? message);
    }
  }

  terminate(reason: string): void {
    if (this.terminatedWith !== undefined) return;
    this.terminatedWith = reason;
    if (this.relay) {
      this.relay.cut(() => encodePgError({ code: PG_SQLSTATE.adminShutdown, message: reason }));
    } else {
      // Still logging in: no server byte reached the client yet, so the error may go right away.
      this.upstream?.destroy(new Error(reason));
    }
  }

  /** The StartupMessage the gateway forwarded, with the authorized user and database forced in. */
  private async readStartup(): Promise<Buffer> {
    const { ctx } = this;
    const reader = new OpeningReader(ctx.client, { code: ErrorCode.BAD_REQUEST, peer: 'the gateway' });
    try {
      const head = await reader.read(4, ctx.upstream.timeoutMs, 'StartupMessage');
      const rest = await reader.read(pgOpeningLength(head) - 4, ctx.upstream.timeoutMs, 'StartupMessage');
      const opening = parsePgOpening(Buffer.concat([head, rest]));
      if (opening.kind !== 'startup') {
        throw new GatehouseError(ErrorCode.BAD_REQUEST, `expected a StartupMessage, got a ${opening.kind} request`);
      }
      return encodePgStartup(withPgLogin(opening.parameters, { user: ctx.dbUser, database: ctx.dbName }));
    } finally {
      reader.release();
    }
  }

  /** TCP, SSLRequest, 'S', TLS, StartupMessage; returns the TLS stream to relay. */
  private async login(startup: Buffer): Promise<Duplex> {
    const { ctx } = this;
    const { host, port, timeoutMs } = ctx.upstream;
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const socket = await connectTcp(host, port, left(), ctx.database);
    this.upstream = socket;
    socket.write(encodePgSslRequest());
    const reader = new OpeningReader(socket, { code: ErrorCode.DB_UNREACHABLE, peer: `database ${ctx.database}` });
    const answer = (await reader.read(1, left(), 'answer to the SSLRequest')).toString('latin1');
    reader.release();
    if (answer !== 'S') {
      throw unreachable(
        ctx.database,
        answer === 'N'
          ? 'the database does not accept TLS connections (set ssl = on)'
          : `unexpected answer ${JSON.stringify(answer)} to the SSLRequest`,
      );
    }
    const secure = await upgradeTls(socket, ctx.upstream.tls, left(), ctx.database);
    this.upstream = secure;
    secure.write(startup);
    return secure;
  }

  private report(type: string, body: Buffer): void {
    const statement = pgStatementText(type, body);
    if (statement === undefined || statement.text === '') return;
    this.ctx.onQuery(capStatement(statement.text, statement.cut));
  }

  private closeWithError(code: string, message: string): Promise<{ bytesIn: number; bytesOut: number }> {
    const { client } = this.ctx;
    return new Promise((resolve) => {
      const done = () => resolve({ bytesIn: 0, bytesOut: 0 });
      if (!client.writable) {
        client.destroy();
        return done();
      }
      client.end(encodePgError({ code, message }), () => {
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
