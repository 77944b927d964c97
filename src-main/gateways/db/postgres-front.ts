// PostgreSQL front: the gateway plays the server's opening. The local leg is plain loopback, so
// an SSLRequest or GSSENCRequest gets 'N' (the client then continues in the clear, as libpq's
// default sslmode=prefer does); the StartupMessage names the db user and database.
import type * as net from 'node:net';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { OpeningReader } from '../../../src-shared/dbproto/opening-reader.ts';
import {
  PG_SQLSTATE,
  encodePgError,
  encodePgStartup,
  parsePgOpening,
  pgOpeningLength,
  withPgLogin,
} from '../../../src-shared/dbproto/postgres.ts';
import type { DbClientFront, DbLogin } from './front.ts';

/** SSLRequest + GSSENCRequest + StartupMessage is the longest valid opening; more is a confused client. */
const MAX_OPENING_PACKETS = 3;

export class PostgresFront implements DbClientFront {
  readonly protocol = 'postgres';

  async open(
    local: net.Socket,
    pinned: { dbUser?: string; dbName?: string },
    timeoutMs: number,
  ): Promise<DbLogin | undefined> {
    const reader = new OpeningReader(local, { code: ErrorCode.BAD_REQUEST, peer: 'the PostgreSQL client' });
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    try {
      for (let packets = 0; packets < MAX_OPENING_PACKETS; packets++) {
        const head = await reader.read(4, left(), 'startup packet');
        const rest = await reader.read(pgOpeningLength(head) - 4, left(), 'startup packet');
        const opening = parsePgOpening(Buffer.concat([head, rest]));
        if (opening.kind === 'ssl' || opening.kind === 'gssenc') {
          local.write('N');
          continue;
        }
        reader.release();
        if (opening.kind === 'cancel') return undefined;
        const dbUser = pinned.dbUser ?? opening.parameters.get('user');
        if (!dbUser) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'the PostgreSQL client named no user');
        const dbName = pinned.dbName ?? opening.parameters.get('database') ?? dbUser;
        const login = withPgLogin(opening.parameters, { user: dbUser, database: dbName });
        return { dbUser, dbName, loginMessage: encodePgStartup(login) };
      }
      throw new GatehouseError(ErrorCode.BAD_REQUEST, 'the PostgreSQL client sent no StartupMessage');
    } catch (err) {
      reader.release();
      if (err instanceof GatehouseError && local.writable) {
        local.end(encodePgError({ code: PG_SQLSTATE.protocolViolation, message: err.message }));
      }
      throw err;
    }
  }

  refuse(local: net.Socket, message: string): void {
    local.end(encodePgError({ code: PG_SQLSTATE.invalidAuthorization, message }));
  }
}
