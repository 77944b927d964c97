// MySQL / MariaDB front: the gateway plays the server's opening. It greets the local client with
// a fresh scramble and mysql_native_password, reads the HandshakeResponse41 that names the db user
// and database, and forwards that packet unchanged (the engine forces the authorized values and
// logs in to the database with its certificate; the client's password answer is never used).
import { randomBytes } from 'node:crypto';
import type * as net from 'node:net';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { OpeningReader } from '../../../src-shared/dbproto/opening-reader.ts';
import {
  ER_ACCESS_DENIED,
  MYSQL_CHARSET_UTF8MB4,
  MYSQL_NATIVE_PASSWORD,
  MYSQL_SUPPORTED_CAPS,
  SERVER_STATUS_AUTOCOMMIT,
  encodeMysqlErr,
  encodeMysqlGreeting,
  encodeMysqlPacket,
  isMysqlSslRequest,
  parseMysqlHandshakeResponse,
} from '../../../src-shared/dbproto/mysql.ts';
import type { DbClientFront, DbLogin } from './front.ts';

/** What the greeting calls the server; clients print it, some parse its leading version. */
export const MYSQL_FRONT_SERVER_VERSION = '8.0.0-Gatehouse';
/** The client's login is sequence 1; our answer (OK or ERR) is 2. */
const ANSWER_SEQUENCE = 2;

export class MysqlFront implements DbClientFront {
  readonly protocol = 'mysql';

  async open(
    local: net.Socket,
    pinned: { dbUser?: string; dbName?: string },
    timeoutMs: number,
  ): Promise<DbLogin | undefined> {
    local.write(
      encodeMysqlPacket(
        0,
        encodeMysqlGreeting({
          serverVersion: MYSQL_FRONT_SERVER_VERSION,
          connectionId: randomBytes(4).readUInt32LE(0) & 0x7fffffff,
          // Never 0 or '$' bytes: some clients stop at a NUL in the scramble.
          scramble: Buffer.from(randomBytes(20).map((b) => 1 + (b % 126))),
          capabilities: MYSQL_SUPPORTED_CAPS,
          charset: MYSQL_CHARSET_UTF8MB4,
          status: SERVER_STATUS_AUTOCOMMIT,
          authPlugin: MYSQL_NATIVE_PASSWORD,
        }),
      ),
    );
    const reader = new OpeningReader(local, { code: ErrorCode.BAD_REQUEST, peer: 'the MySQL client' });
    try {
      const packet = await reader.readMysqlPacket(timeoutMs, 'login');
      if (isMysqlSslRequest(packet.payload)) {
        throw new GatehouseError(
          ErrorCode.BAD_REQUEST,
          'the local gateway speaks plain MySQL on loopback (the connection to the database is TLS); ' +
            'connect without TLS, e.g. mariadb --skip-ssl or mysql --ssl-mode=DISABLED',
        );
      }
      const response = parseMysqlHandshakeResponse(packet.payload);
      reader.release();
      const dbUser = pinned.dbUser ?? response.user;
      if (!dbUser) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'the MySQL client named no user');
      const dbName = pinned.dbName ?? response.database;
      return { dbUser, ...(dbName ? { dbName } : {}), loginMessage: packet.raw };
    } catch (err) {
      reader.release();
      if (err instanceof GatehouseError && local.writable) this.refuseWith(local, err.message);
      throw err;
    }
  }

  refuse(local: net.Socket, message: string): void {
    this.refuseWith(local, message);
  }

  private refuseWith(local: net.Socket, message: string): void {
    local.end(encodeMysqlPacket(ANSWER_SEQUENCE, encodeMysqlErr({ ...ER_ACCESS_DENIED, message })));
  }
}
