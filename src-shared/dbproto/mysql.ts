// MySQL / MariaDB opening and command messages (see mysql-packet.ts for why they are hand-written).
// Field layouts: https://dev.mysql.com/doc/dev/mysql-server/latest/page_protocol_connection_phase.html
import { ErrorCode, GatehouseError } from '../errors.ts';
import {
  CLIENT,
  COM_QUERY,
  COM_STMT_PREPARE,
  MYSQL_CHARSET_UTF8MB4,
  PayloadReader,
  SERVER_STATUS_AUTOCOMMIT,
  lenencBytes,
  lenencInt,
  nulString,
} from './mysql-packet.ts';

export * from './mysql-packet.ts';

function protocolError(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, `MySQL protocol: ${message}`);
}

export interface MysqlGreeting {
  serverVersion: string;
  connectionId: number;
  /** The 20-byte scramble (auth-plugin-data without its trailing NUL). */
  scramble: Buffer;
  capabilities: number;
  charset: number;
  status: number;
  authPlugin: string;
}

/** Initial Handshake v10, as a server (the gateway front) sends it. */
export function encodeMysqlGreeting(greeting: MysqlGreeting): Buffer {
  if (greeting.scramble.length !== 20) throw protocolError('the scramble must be 20 bytes');
  const fixed = Buffer.alloc(4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10);
  let at = fixed.writeUInt32LE(greeting.connectionId >>> 0, 0);
  at += greeting.scramble.copy(fixed, at, 0, 8);
  at = fixed.writeUInt8(0, at);
  at = fixed.writeUInt16LE(greeting.capabilities & 0xffff, at);
  at = fixed.writeUInt8(greeting.charset, at);
  at = fixed.writeUInt16LE(greeting.status, at);
  at = fixed.writeUInt16LE(greeting.capabilities >>> 16, at);
  fixed.writeUInt8(21, at); // auth-plugin-data length: 20 + NUL; the 10 reserved bytes stay zero
  return Buffer.concat([
    Buffer.from([10]),
    nulString(greeting.serverVersion),
    fixed,
    greeting.scramble.subarray(8),
    Buffer.from([0]),
    nulString(greeting.authPlugin),
  ]);
}

/** Initial Handshake v10 as a database sends it (the engine reads it). */
export function parseMysqlGreeting(payload: Buffer): MysqlGreeting {
  const r = new PayloadReader(payload);
  const version = r.u8();
  if (version === 0xff) throw protocolError(`the server refused the connection: ${parseMysqlErr(payload).message}`);
  if (version !== 10) throw protocolError(`unsupported handshake version ${version}`);
  const serverVersion = r.nulString();
  const connectionId = r.uint(4);
  const part1 = r.bytes(8);
  r.u8();
  let capabilities = r.uint(2);
  const charset = r.u8();
  const status = r.uint(2);
  capabilities |= r.uint(2) << 16;
  capabilities >>>= 0;
  const dataLength = r.u8();
  r.bytes(10);
  let part2: Buffer = Buffer.alloc(0);
  if (capabilities & CLIENT.SECURE_CONNECTION) {
    part2 = r.bytes(Math.max(13, dataLength - 8));
    if (part2[part2.length - 1] === 0) part2 = part2.subarray(0, -1);
  }
  let authPlugin = '';
  if (capabilities & CLIENT.PLUGIN_AUTH) {
    const rest = r.rest();
    const end = rest.indexOf(0);
    authPlugin = rest.toString('utf8', 0, end < 0 ? rest.length : end);
  }
  return {
    serverVersion,
    connectionId,
    scramble: Buffer.concat([part1, part2]),
    capabilities,
    charset,
    status,
    authPlugin,
  };
}

export interface MysqlHandshakeResponse {
  capabilities: number;
  maxPacketSize: number;
  charset: number;
  user: string;
  authResponse: Buffer;
  database?: string;
  authPlugin?: string;
  /** Connection attributes in order (program name, client version, ...). */
  attributes?: Array<[string, string]>;
}

/** The 32 bytes every HandshakeResponse41 and SSLRequest start with. */
function responseHead(capabilities: number, maxPacketSize: number, charset: number): Buffer {
  const head = Buffer.alloc(32);
  head.writeUInt32LE(capabilities >>> 0, 0);
  head.writeUInt32LE(maxPacketSize >>> 0, 4);
  head.writeUInt8(charset, 8);
  return head;
}

/** True when a client's login payload is an SSLRequest (just the 32-byte head with CLIENT_SSL). */
export function isMysqlSslRequest(payload: Buffer): boolean {
  return payload.length === 32 && (payload.readUInt32LE(0) & CLIENT.SSL) !== 0;
}

export function encodeMysqlSslRequest(capabilities: number, charset = MYSQL_CHARSET_UTF8MB4): Buffer {
  return responseHead(capabilities | CLIENT.SSL, 16 * 1024 * 1024, charset);
}

export function parseMysqlHandshakeResponse(payload: Buffer): MysqlHandshakeResponse {
  const r = new PayloadReader(payload);
  const capabilities = r.uint(4) >>> 0;
  if (!(capabilities & CLIENT.PROTOCOL_41)) throw protocolError('the client does not speak protocol 4.1');
  const maxPacketSize = r.uint(4);
  const charset = r.u8();
  r.bytes(23);
  const user = r.nulString();
  let authResponse: Buffer;
  if (capabilities & CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA) authResponse = Buffer.from(r.lenencBytes());
  else if (capabilities & CLIENT.SECURE_CONNECTION) authResponse = Buffer.from(r.bytes(r.u8()));
  else authResponse = Buffer.from(r.nulString(), 'utf8');
  const response: MysqlHandshakeResponse = { capabilities, maxPacketSize, charset, user, authResponse };
  if (capabilities & CLIENT.CONNECT_WITH_DB && r.left > 0) response.database = r.nulString();
  if (capabilities & CLIENT.PLUGIN_AUTH && r.left > 0) response.authPlugin = r.nulString();
  if (capabilities & CLIENT.CONNECT_ATTRS && r.left > 0) {
    const attrs = new PayloadReader(r.lenencBytes());
    response.attributes = [];
    while (attrs.left > 0) {
      response.attributes.push([attrs.lenencBytes().toString('utf8'), attrs.lenencBytes().toString('utf8')]);
    }
  }
  return response;
}

/** HandshakeResponse41; the flags decide which optional fields are written, as the parser reads them. */
export function encodeMysqlHandshakeResponse(response: MysqlHandshakeResponse): Buffer {
  let capabilities = response.capabilities | CLIENT.PROTOCOL_41;
  if (response.database !== undefined) capabilities |= CLIENT.CONNECT_WITH_DB;
  else capabilities &= ~CLIENT.CONNECT_WITH_DB;
  const parts = [responseHead(capabilities, response.maxPacketSize, response.charset), nulString(response.user)];
  if (capabilities & CLIENT.PLUGIN_AUTH_LENENC_CLIENT_DATA) parts.push(lenencBytes(response.authResponse));
  else if (capabilities & CLIENT.SECURE_CONNECTION) {
    if (response.authResponse.length > 255) throw protocolError('auth response longer than 255 bytes');
    parts.push(Buffer.from([response.authResponse.length]), response.authResponse);
  } else parts.push(Buffer.concat([response.authResponse, Buffer.from([0])]));
  if (response.database !== undefined) parts.push(nulString(response.database));
  if (capabilities & CLIENT.PLUGIN_AUTH) parts.push(nulString(response.authPlugin ?? ''));
  if (capabilities & CLIENT.CONNECT_ATTRS) {
    const attrs = (response.attributes ?? []).flatMap(([k, v]) => [
      lenencBytes(Buffer.from(k, 'utf8')),
      lenencBytes(Buffer.from(v, 'utf8')),
    ]);
    parts.push(lenencBytes(Buffer.concat(attrs)));
  }
  return Buffer.concat(parts);
}

export interface MysqlErr {
  errno: number;
  sqlState: string;
  message: string;
}

export function encodeMysqlErr(err: MysqlErr): Buffer {
  if (!/^[0-9A-Z]{5}$/.test(err.sqlState)) throw protocolError(`bad SQLSTATE ${err.sqlState}`);
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(err.errno, 1);
  return Buffer.concat([head, Buffer.from(`#${err.sqlState}${err.message}`, 'utf8')]);
}

export function parseMysqlErr(payload: Buffer): MysqlErr {
  const r = new PayloadReader(payload);
  if (r.u8() !== 0xff) throw protocolError('not an ERR packet');
  const errno = r.uint(2);
  let sqlState = 'HY000';
  if (r.left >= 6 && payload[r.at] === 0x23) {
    r.u8();
    sqlState = r.bytes(5).toString('latin1');
  }
  return { errno, sqlState, message: r.rest().toString('utf8') };
}

/** OK packet for protocol 4.1 clients (no info, no session state). */
export function encodeMysqlOk(fields: { affectedRows?: number; lastInsertId?: number; status?: number } = {}): Buffer {
  const tail = Buffer.alloc(4);
  tail.writeUInt16LE(fields.status ?? SERVER_STATUS_AUTOCOMMIT, 0);
  return Buffer.concat([
    Buffer.from([0]),
    lenencInt(fields.affectedRows ?? 0),
    lenencInt(fields.lastInsertId ?? 0),
    tail,
  ]);
}

/** The packet kind a server sends during the login: OK, ERR, AuthSwitchRequest or AuthMoreData. */
export function mysqlLoginReplyKind(payload: Buffer): 'ok' | 'err' | 'switch' | 'more' {
  const first = payload[0];
  if (first === 0x00 && payload.length >= 7) return 'ok';
  if (first === 0xff) return 'err';
  if (first === 0xfe) return 'switch';
  if (first === 0x01) return 'more';
  throw protocolError(`unexpected login reply 0x${(first ?? 0).toString(16)}`);
}

export function parseMysqlAuthSwitch(payload: Buffer): { plugin: string; data: Buffer } {
  const r = new PayloadReader(payload);
  if (r.u8() !== 0xfe) throw protocolError('not an AuthSwitchRequest');
  if (r.left === 0) return { plugin: 'mysql_old_password', data: Buffer.alloc(0) };
  const plugin = r.nulString();
  return { plugin, data: Buffer.from(r.rest()) };
}

/** The statement text of a COM_QUERY / COM_STMT_PREPARE payload (or its first bytes); else undefined. */
export function mysqlStatementText(payloadPrefix: Buffer): string | undefined {
  const command = payloadPrefix[0];
  if (command !== COM_QUERY && command !== COM_STMT_PREPARE) return undefined;
  return payloadPrefix.toString('utf8', 1);
}
