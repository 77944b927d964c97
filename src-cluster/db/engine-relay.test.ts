import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createLogger } from '../../src-shared/logger.ts';
import { PgMessageFramer } from '../../src-shared/dbproto/postgres.ts';
import { EngineRelay, connectTcp } from './engine-relay.ts';

/** Two connected loopback sockets. */
async function socketPair(): Promise<[net.Socket, net.Socket]> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const accepted = new Promise<net.Socket>((r) => server.once('connection', r));
  const a = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  const b = await accepted;
  server.close();
  return [a, b];
}

function pgMessage(type: string, body: string): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(Buffer.byteLength(body) + 4, 1);
  return Buffer.concat([head, Buffer.from(body)]);
}

const log = createLogger({ level: 'error' });
const settle = () => new Promise((r) => setTimeout(r, 50));

async function relayFixture() {
  const [clientApp, clientSide] = await socketPair(); // clientApp plays the client, clientSide the engine's end
  const [serverSide, database] = await socketPair();
  const statements: string[] = [];
  const clientFramer = new PgMessageFramer(new Set(['Q']), (_t, body) =>
    statements.push(body.toString('utf8', 0, body.length - 1)),
  );
  const serverFramer = new PgMessageFramer(new Set(), () => {});
  const relay = new EngineRelay(
    clientSide,
    serverSide,
    {
      clientChunk: (c) => clientFramer.push(c),
      serverChunk: (c) => serverFramer.push(c),
      serverBytesToBoundary: (c) => serverFramer.bytesToBoundary(c),
      lostMessage: (why) => Buffer.from(`<LOST ${why}>`),
    },
    log,
  );
  const toClient: Buffer[] = [];
  clientApp.on('data', (d: Buffer) => toClient.push(d));
  const toDatabase: Buffer[] = [];
  database.on('data', (d: Buffer) => toDatabase.push(d));
  return { clientApp, database, relay, statements, toClient, toDatabase };
}

test('bytes flow both ways, statements are observed, totals are counted', async () => {
  const f = await relayFixture();
  f.clientApp.write(pgMessage('Q', 'select 1\0'));
  f.database.write(pgMessage('Z', 'I'));
  await settle();
  assert.deepEqual(f.statements, ['select 1']);
  assert.deepEqual(Buffer.concat(f.toDatabase), pgMessage('Q', 'select 1\0'));
  assert.deepEqual(Buffer.concat(f.toClient), pgMessage('Z', 'I'));
  f.clientApp.end();
  const totals = await f.relay.done;
  assert.deepEqual(totals, { bytesIn: 14, bytesOut: 6 });
});

test('a cut mid-message lets the message finish, then writes the error and closes', async () => {
  const f = await relayFixture();
  const row = pgMessage('D', 'a'.repeat(100));
  f.database.write(row.subarray(0, 30));
  await settle();
  f.relay.cut(() => Buffer.from('<ERR>'));
  await settle();
  assert.equal(Buffer.concat(f.toClient).length, 30, 'nothing extra while mid-message');
  f.database.write(Buffer.concat([row.subarray(30), pgMessage('D', 'never')]));
  await f.relay.done;
  await new Promise((r) => f.clientApp.once('close', r));
  assert.deepEqual(Buffer.concat(f.toClient), Buffer.concat([row, Buffer.from('<ERR>')]));
});

test('a cut at a boundary writes the error at once; a parse failure only stops observing', async () => {
  const f = await relayFixture();
  f.database.write(pgMessage('Z', 'I'));
  await settle();
  f.relay.cut(() => Buffer.from('<ERR>'));
  await f.relay.done;
  await new Promise((r) => f.clientApp.once('close', r));
  assert.deepEqual(Buffer.concat(f.toClient), Buffer.concat([pgMessage('Z', 'I'), Buffer.from('<ERR>')]));

  const g = await relayFixture();
  const bad = Buffer.from([0x51, 0, 0, 0, 1]); // length 1 < 4: not PostgreSQL
  g.clientApp.write(Buffer.concat([bad, Buffer.from('still relayed')]));
  await settle();
  assert.deepEqual(Buffer.concat(g.toDatabase), Buffer.concat([bad, Buffer.from('still relayed')]));
  g.clientApp.end();
  await g.relay.done;
});

test('connectTcp names the database and the reason', async () => {
  await assert.rejects(connectTcp('127.0.0.1', 1, 2_000, 'orders'), (e: Error) => {
    assert.match(e.message, /^database orders: .*ECONNREFUSED/);
    return true;
  });
});

test('a database connection that breaks at a boundary tells the client why', async () => {
  const f = await relayFixture();
  f.database.write(pgMessage('Z', 'I'));
  await settle();
  f.database.resetAndDestroy();
  await f.relay.done;
  await new Promise((r) => f.clientApp.once('close', r));
  assert.match(Buffer.concat(f.toClient).toString('latin1'), /<LOST connection to the database lost: .*ECONNRESET>$/);
});
