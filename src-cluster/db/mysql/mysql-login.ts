// The engine's login to a MySQL / MariaDB database on behalf of the local client: read the
// greeting, SSLRequest, TLS with the db service's client certificate, HandshakeResponse41 with
// the authorized user and database and an empty password (the certificate is the credential:
// `REQUIRE SUBJECT '/CN=<user>'`), answering an AuthSwitchRequest or a caching_sha2_password
// "full authentication" request with the empty password too. Every step shares one deadline.
import type * as net from 'node:net';
import type * as tls from 'node:tls';
import { ErrorCode, GatehouseError } from '../../../src-shared/errors.ts';
import { OpeningReader } from '../../../src-shared/dbproto/opening-reader.ts';
import {
  CLIENT,
  MYSQL_SUPPORTED_CAPS,
  encodeMysqlHandshakeResponse,
  encodeMysqlPacket,
  encodeMysqlSslRequest,
  mysqlLoginReplyKind,
  parseMysqlAuthSwitch,
  parseMysqlErr,
  parseMysqlGreeting,
  parseMysqlHandshakeResponse,
  type MysqlErr,
} from '../../../src-shared/dbproto/mysql.ts';
import type { DbSessionContext } from '../engine.ts';
import { unreachable, upgradeTls } from '../engine-relay.ts';

/** Auth switches / more-data rounds a login may take before we call it a loop. */
const MAX_AUTH_ROUNDS = 4;
/** caching_sha2_password AuthMoreData: the fast path succeeded / the password is wanted. */
const FAST_AUTH_OK = 0x03;
const FULL_AUTH_WANTED = 0x04;
/**
 * Capabilities a database may lack without the two ends disagreeing after the login: they shape
 * only the login packet (or, for LONG_PASSWORD, nothing; MariaDB clears it to announce itself).
 */
const LOGIN_ONLY_CAPS = CLIENT.LONG_PASSWORD | CLIENT.CONNECT_WITH_DB | CLIENT.CONNECT_ATTRS;

export type MysqlLoginResult = { kind: 'ok'; ok: Buffer } | { kind: 'err'; err: MysqlErr };

export async function loginToDatabase(
  socket: net.Socket,
  clientLoginPayload: Buffer,
  ctx: DbSessionContext,
  deadline: number,
  onSecure: (secure: tls.TLSSocket) => void,
): Promise<MysqlLoginResult> {
  const left = () => Math.max(1, deadline - Date.now());
  const clientLogin = parseMysqlHandshakeResponse(clientLoginPayload);
  const peer = `database ${ctx.database}`;
  const plainReader = new OpeningReader(socket, { code: ErrorCode.DB_UNREACHABLE, peer });
  const greetingPacket = await plainReader.readMysqlPacket(left(), 'greeting');
  plainReader.release();
  const greeting = parseMysqlGreeting(greetingPacket.payload);
  if (!(greeting.capabilities & CLIENT.SSL)) {
    throw unreachable(ctx.database, 'the database does not accept TLS connections (set ssl-cert, ssl-key, ssl-ca)');
  }
  const wanted = clientLogin.capabilities & MYSQL_SUPPORTED_CAPS;
  const missing = wanted & ~greeting.capabilities & ~LOGIN_ONLY_CAPS;
  if (missing) {
    throw unreachable(ctx.database, `the database lacks capabilities the client uses (0x${missing.toString(16)})`);
  }
  const capabilities = (wanted & greeting.capabilities) | CLIENT.SSL | CLIENT.PROTOCOL_41 | CLIENT.PLUGIN_AUTH;
  socket.write(encodeMysqlPacket(1, encodeMysqlSslRequest(capabilities, clientLogin.charset)));
  const secure = await upgradeTls(socket, ctx.upstream.tls, left(), ctx.database);
  onSecure(secure);
  const response = encodeMysqlHandshakeResponse({
    capabilities,
    maxPacketSize: clientLogin.maxPacketSize,
    charset: clientLogin.charset,
    user: ctx.dbUser,
    authResponse: Buffer.alloc(0),
    ...(ctx.dbName !== undefined ? { database: ctx.dbName } : {}),
    authPlugin: greeting.authPlugin,
    ...(clientLogin.attributes ? { attributes: clientLogin.attributes } : {}),
  });
  secure.write(encodeMysqlPacket(2, response));
  const reader = new OpeningReader(secure, { code: ErrorCode.DB_UNREACHABLE, peer });
  try {
    return await finishAuth(secure, reader, left, ctx.database);
  } finally {
    reader.release();
  }
}

async function finishAuth(
  secure: tls.TLSSocket,
  reader: OpeningReader,
  left: () => number,
  database: string,
): Promise<MysqlLoginResult> {
  for (let round = 0; round <= MAX_AUTH_ROUNDS; round++) {
    const reply = await reader.readMysqlPacket(left(), 'login answer');
    const next = (payload: Buffer) => secure.write(encodeMysqlPacket(reply.sequence + 1, payload));
    switch (mysqlLoginReplyKind(reply.payload)) {
      case 'ok':
        return { kind: 'ok', ok: reply.payload };
      case 'err':
        return { kind: 'err', err: parseMysqlErr(reply.payload) };
      case 'switch': {
        const { plugin } = parseMysqlAuthSwitch(reply.payload);
        if (plugin === 'mysql_clear_password') next(Buffer.from([0]));
        else next(Buffer.alloc(0)); // the empty password's answer in every hashing plugin
        break;
      }
      case 'more': {
        const status = reply.payload[1];
        if (status === FULL_AUTH_WANTED)
          next(Buffer.from([0])); // over TLS: the password in clear, empty
        else if (status !== FAST_AUTH_OK) {
          throw new GatehouseError(ErrorCode.DB_UNREACHABLE, `database ${database}: unsupported authentication step`);
        }
        break;
      }
    }
  }
  throw unreachable(database, `the login did not finish within ${MAX_AUTH_ROUNDS} authentication rounds`);
}
