import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { PostgresFront } from './postgres-front.ts';
import { MysqlFront } from './mysql-front.ts';
import type { DbClientFront, DbLogin } from './front.ts';
import {
  encodePgSslRequest,
  encodePgStartup,
  parsePgErrorFields,
  parsePgOpening,
} from '../../../src-shared/dbproto/postgres.ts';
import {
  MYSQL_SUPPORTED_CAPS,
  encodeMysqlHandshakeResponse,
  encodeMysqlPacket,
  encodeMysqlSslRequest,
  parseMysqlErr,
  parseMysqlGreeting,
} from '../../../src-shared/dbproto/mysql.ts';

/** Runs `front.open` on the server side of a loopback connection; `client` plays the local client. */
async function openWith(
  front: DbClientFront,
  pinned: { dbUser?: string; dbName?: string },
  client: (socket: net.Socket, received: () => Buffer) => Promise<void>,
  timeoutMs = 2_000,
): Promise<{ login: DbLogin | undefined | Error; received: Buffer }> {
  let result: Promise<DbLogin | undefined | Error> | undefined;
  const server = net.createServer((local) => {
    result = front.open(local, pinned, timeoutMs).catch((e: Error) => e);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  let received = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
  await new Promise((r) => socket.once('connect', r));
  await client(socket, () => received);
  while (result === undefined) await new Promise((r) => setTimeout(r, 5));
  const login = await result;
  await new Promise((r) => setTimeout(r, 50));
  socket.destroy();
  server.close();
  return { login, received };
}

const until = async (check: () => boolean) => {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
};

test('postgres: SSLRequest gets N, then the StartupMessage is read; pinned values win and are written into it', async () => {
  const { login, received } = await openWith(new PostgresFront(), { dbName: 'orders' }, async (socket, got) => {
    socket.write(encodePgSslRequest());
    await until(() => got().length === 1);
    socket.write(
      encodePgStartup(
        new Map([
          ['user', 'alice'],
          ['database', 'other'],
          ['application_name', 'psql'],
        ]),
      ),
    );
  });
  assert.equal(received.toString('latin1'), 'N');
  assert.ok(login && !(login instanceof Error));
  assert.equal(login.dbUser, 'alice');
  assert.equal(login.dbName, 'orders');
  const forwarded = parsePgOpening(login.loginMessage);
  assert.equal(forwarded.kind === 'startup' && forwarded.parameters.get('database'), 'orders');
  assert.equal(forwarded.kind === 'startup' && forwarded.parameters.get('application_name'), 'psql');
});

test('postgres: no database means the user name; a CancelRequest routes nothing', async () => {
  const { login } = await openWith(new PostgresFront(), {}, async (socket) => {
    socket.write(encodePgStartup(new Map([['user', 'bob']])));
  });
  assert.ok(login && !(login instanceof Error));
  assert.equal(login.dbName, 'bob');
  const cancel = Buffer.alloc(16);
  cancel.writeInt32BE(16, 0);
  cancel.writeInt32BE(80877102, 4);
  const cancelled = await openWith(new PostgresFront(), {}, async (socket) => void socket.write(cancel));
  assert.equal(cancelled.login, undefined);
});

test('postgres: a silent client times out and a garbage opening gets a FATAL protocol error', async () => {
  const silent = await openWith(new PostgresFront(), {}, async () => {}, 100);
  assert.match(String(silent.login), /sent no startup packet within 100 ms/);
  const garbage = await openWith(
    new PostgresFront(),
    {},
    async (socket) => void socket.write(Buffer.from('GET / HTTP/1.1\r\n\r\n')),
  );
  assert.match(String(garbage.login), /outside 8\.\.65536/);
  assert.equal(garbage.received.toString('latin1', 0, 1), 'E');
  assert.equal(parsePgErrorFields(garbage.received.subarray(5)).get('C'), '08P01');
});

function mysqlLogin(user: string, database?: string): Buffer {
  return encodeMysqlHandshakeResponse({
    capabilities: MYSQL_SUPPORTED_CAPS,
    maxPacketSize: 1 << 24,
    charset: 45,
    user,
    authResponse: Buffer.alloc(20, 1),
    ...(database ? { database } : {}),
    authPlugin: 'mysql_native_password',
  });
}

test('mysql: greeting without SSL and with a fresh scramble; the login packet is forwarded as is', async () => {
  const login = mysqlLogin('alice', 'orders');
  const { login: result, received } = await openWith(new MysqlFront(), { dbUser: 'pinned' }, async (socket, got) => {
    await until(() => got().length > 4);
    socket.write(encodeMysqlPacket(1, login));
  });
  const greeting = parseMysqlGreeting(received.subarray(4));
  assert.equal(greeting.capabilities & 2048, 0, 'no CLIENT_SSL offered');
  assert.equal(greeting.scramble.length, 20);
  assert.equal(greeting.authPlugin, 'mysql_native_password');
  assert.ok(result && !(result instanceof Error));
  assert.equal(result.dbUser, 'pinned');
  assert.equal(result.dbName, 'orders');
  assert.deepEqual(result.loginMessage, encodeMysqlPacket(1, login));
});

test('mysql: a client that insists on TLS gets ERR 1045 (sequence 2) saying to connect without it', async () => {
  const { login, received } = await openWith(new MysqlFront(), {}, async (socket, got) => {
    await until(() => got().length > 4);
    socket.write(encodeMysqlPacket(1, encodeMysqlSslRequest(MYSQL_SUPPORTED_CAPS)));
  });
  assert.match(String(login), /without TLS/);
  const greetingLength = received.readUIntLE(0, 3) + 4;
  const err = received.subarray(greetingLength);
  assert.equal(err[3], 2);
  assert.match(parseMysqlErr(err.subarray(4)).message, /--skip-ssl/);
});

test("refuse() writes each protocol's native access-denied error", async () => {
  for (const front of [new PostgresFront(), new MysqlFront()]) {
    const server = net.createServer((local) => front.refuse(local, 'access to db orders denied'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    await new Promise((r) => socket.once('end', r));
    server.close();
    const bytes = Buffer.concat(chunks);
    if (front.protocol === 'postgres') {
      assert.equal(parsePgErrorFields(bytes.subarray(5)).get('C'), '28000');
    } else {
      assert.equal(bytes[3], 2);
      assert.deepEqual(parseMysqlErr(bytes.subarray(4)), {
        errno: 1045,
        sqlState: '28000',
        message: 'access to db orders denied',
      });
    }
  }
});
