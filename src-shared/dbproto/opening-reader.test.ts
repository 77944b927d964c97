import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { ErrorCode } from '../errors.ts';
import { OpeningReader } from './opening-reader.ts';
import { MYSQL_MAX_OPENING_BYTES, encodeMysqlPacket } from './mysql-packet.ts';

const opts = { code: ErrorCode.DB_UNREACHABLE, peer: 'database orders' };

test('reads exact byte counts across chunks and hands the rest back to the stream', async () => {
  const stream = new PassThrough();
  const reader = new OpeningReader(stream, opts);
  stream.write(Buffer.from('ab'));
  setTimeout(() => stream.write(Buffer.from('cdef')), 10);
  assert.equal((await reader.read(3, 1_000, 'x')).toString(), 'abc');
  const packet = encodeMysqlPacket(5, Buffer.from('hello'));
  stream.write(packet);
  await new Promise((r) => setTimeout(r, 10));
  assert.equal((await reader.read(1, 1_000, 'x')).toString(), 'd');
  const released = reader.release();
  const rest: Buffer[] = [];
  released.on('data', (d: Buffer) => rest.push(d));
  released.resume();
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(Buffer.concat(rest), Buffer.concat([Buffer.from('ef'), packet]));
});

test('a MySQL packet is parsed, an oversize one refused, a silent or closed peer named', async () => {
  const stream = new PassThrough();
  const reader = new OpeningReader(stream, opts);
  stream.write(encodeMysqlPacket(3, Buffer.from('greeting')));
  const packet = await reader.readMysqlPacket(1_000, 'greeting');
  assert.equal(packet.sequence, 3);
  assert.equal(packet.payload.toString(), 'greeting');
  const huge = Buffer.alloc(4);
  huge.writeUIntLE(MYSQL_MAX_OPENING_BYTES + 1, 0, 3);
  stream.write(huge);
  await assert.rejects(reader.readMysqlPacket(1_000, 'greeting'), /greeting of 65537 bytes \(limit 65536\)/);
  await assert.rejects(reader.read(1, 50, 'answer'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'DB_UNREACHABLE');
    assert.match(e.message, /^database orders sent no answer within 50 ms$/);
    return true;
  });
  stream.end();
  await assert.rejects(reader.read(1, 1_000, 'answer'), /database orders closed the connection before its answer/);
});
