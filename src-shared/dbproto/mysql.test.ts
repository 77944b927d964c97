import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLIENT,
  COM_QUERY,
  COM_STMT_PREPARE,
  MYSQL_MAX_PAYLOAD,
  MYSQL_SUPPORTED_CAPS,
  MysqlPacketFramer,
  PayloadReader,
  encodeMysqlErr,
  encodeMysqlGreeting,
  encodeMysqlHandshakeResponse,
  encodeMysqlOk,
  encodeMysqlPacket,
  encodeMysqlSslRequest,
  isMysqlSslRequest,
  lenencInt,
  mysqlLoginReplyKind,
  mysqlStatementText,
  parseMysqlAuthSwitch,
  parseMysqlErr,
  parseMysqlGreeting,
  parseMysqlHandshakeResponse,
} from './mysql.ts';

test('a greeting round-trips: version, 20-byte scramble, capabilities, plugin', () => {
  const greeting = {
    serverVersion: '8.0.0-Gatehouse',
    connectionId: 7,
    scramble: Buffer.from('0123456789abcdefghij'),
    capabilities: MYSQL_SUPPORTED_CAPS,
    charset: 45,
    status: 2,
    authPlugin: 'mysql_native_password',
  };
  const payload = encodeMysqlGreeting(greeting);
  assert.equal(payload[0], 10);
  assert.deepEqual(parseMysqlGreeting(payload), greeting);
  assert.equal(MYSQL_SUPPORTED_CAPS & (CLIENT.SSL | CLIENT.LOCAL_FILES | CLIENT.COMPRESS), 0);
  assert.throws(() => parseMysqlGreeting(Buffer.from([9, 0])), /unsupported handshake version 9/);
});

test('HandshakeResponse41 round-trips with database, plugin and connect attributes', () => {
  const response = {
    capabilities: MYSQL_SUPPORTED_CAPS,
    maxPacketSize: 1 << 24,
    charset: 45,
    user: 'bob',
    authResponse: Buffer.alloc(20, 7),
    database: 'orders',
    authPlugin: 'mysql_native_password',
    attributes: [
      ['_client_name', 'libmariadb'],
      ['program_name', 'mariadb'],
    ] as Array<[string, string]>,
  };
  const parsed = parseMysqlHandshakeResponse(encodeMysqlHandshakeResponse(response));
  assert.deepEqual(parsed, response);
  const noDb = parseMysqlHandshakeResponse(encodeMysqlHandshakeResponse({ ...response, database: undefined }));
  assert.equal(noDb.database, undefined);
  assert.equal(noDb.capabilities & CLIENT.CONNECT_WITH_DB, 0);
  const short = { ...response, capabilities: CLIENT.PROTOCOL_41 | CLIENT.SECURE_CONNECTION, attributes: undefined };
  assert.deepEqual(
    parseMysqlHandshakeResponse(encodeMysqlHandshakeResponse(short)).authResponse,
    response.authResponse,
  );
  assert.throws(() => parseMysqlHandshakeResponse(Buffer.alloc(10)), /does not speak protocol 4.1/);
  const cut = encodeMysqlHandshakeResponse(response).subarray(0, 40);
  assert.throws(() => parseMysqlHandshakeResponse(cut), /not NUL-terminated|ends .* early/);
});

test('SSLRequest is told apart from a login', () => {
  const ssl = encodeMysqlSslRequest(MYSQL_SUPPORTED_CAPS);
  assert.equal(ssl.length, 32);
  assert.ok(isMysqlSslRequest(ssl));
  assert.ok(!isMysqlSslRequest(encodeMysqlHandshakeResponse({ ...loginBase(), authResponse: Buffer.alloc(0) })));
});

function loginBase() {
  return {
    capabilities: MYSQL_SUPPORTED_CAPS,
    maxPacketSize: 1 << 24,
    charset: 45,
    user: 'a',
    authResponse: Buffer.alloc(0),
  };
}

test('ERR and OK packets, login reply kinds and AuthSwitchRequest', () => {
  const err = encodeMysqlErr({ errno: 1045, sqlState: '28000', message: 'access to db orders denied' });
  assert.deepEqual(parseMysqlErr(err), { errno: 1045, sqlState: '28000', message: 'access to db orders denied' });
  assert.equal(mysqlLoginReplyKind(err), 'err');
  assert.equal(mysqlLoginReplyKind(encodeMysqlOk()), 'ok');
  assert.throws(() => encodeMysqlErr({ errno: 1, sqlState: 'bad', message: '' }), /bad SQLSTATE/);
  const sw = Buffer.concat([Buffer.from([0xfe]), Buffer.from('caching_sha2_password\0'), Buffer.alloc(21, 1)]);
  assert.equal(mysqlLoginReplyKind(sw), 'switch');
  assert.equal(parseMysqlAuthSwitch(sw).plugin, 'caching_sha2_password');
  assert.equal(parseMysqlAuthSwitch(sw).data.length, 21);
});

test('length-encoded integers at each size', () => {
  for (const value of [0, 250, 251, 0xffff, 0x10000, 0xffffff, 0x1000000]) {
    assert.equal(new PayloadReader(lenencInt(value)).lenencInt(), value);
  }
});

test('the packet framer splits continuations, reports statements and knows boundaries', () => {
  const big = Buffer.alloc(MYSQL_MAX_PAYLOAD + 10, 0x61);
  big[0] = COM_QUERY;
  const packets = encodeMysqlPacket(0, big);
  assert.equal(packets.length, big.length + 8, 'two headers: 16 MiB - 1 and the rest');
  const stream = Buffer.concat([
    encodeMysqlPacket(0, Buffer.from([COM_QUERY, ...Buffer.from('select 1')])),
    encodeMysqlPacket(0, Buffer.from([COM_STMT_PREPARE, ...Buffer.from('select ?')])),
    encodeMysqlPacket(0, Buffer.from([0x0e])),
  ]);
  for (const size of [1, 3, 5, stream.length]) {
    const seen: string[] = [];
    const framer = new MysqlPacketFramer((seq, payload) => {
      const text = mysqlStatementText(payload);
      if (text !== undefined) seen.push(`${seq}:${text}`);
    });
    for (let at = 0; at < stream.length; at += size) framer.push(stream.subarray(at, at + size));
    assert.deepEqual(seen, ['0:select 1', '0:select ?'], `chunks of ${size}`);
    assert.ok(framer.atBoundary());
  }
  const lengths: number[] = [];
  const framer = new MysqlPacketFramer((_seq, prefix, length) => lengths.push(length, prefix.length), 100);
  framer.push(packets.subarray(0, 10));
  assert.equal(framer.atBoundary(), false);
  assert.equal(framer.bytesToBoundary(packets.subarray(10)), MYSQL_MAX_PAYLOAD + 4 - 10);
  framer.push(packets.subarray(10));
  assert.deepEqual(lengths, [MYSQL_MAX_PAYLOAD, 100, 10, 10]);
  assert.equal(framer.lastSequence, 1);
});
