import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MysqlResponseTracker } from './mysql-response.ts';
import { COM_QUERY, encodeMysqlOk, lenencInt } from './mysql.ts';

const query = Buffer.concat([Buffer.from([COM_QUERY]), Buffer.from('select 1')]);
const eof = (status: number) => Buffer.from([0xfe, 0, 0, status & 0xff, status >> 8]);
const row = Buffer.from([1, 0x31]);

function feed(tracker: MysqlResponseTracker, packets: Buffer[]): boolean[] {
  return packets.map((p) => {
    tracker.serverPacket(p, p.length);
    return tracker.midResponse();
  });
}

test('a result set with EOF packets: mid-response until the final EOF', () => {
  const t = new MysqlResponseTracker(false);
  assert.equal(t.midResponse(), false);
  t.clientPacket(0, query);
  assert.equal(t.midResponse(), true);
  const seen = feed(t, [lenencInt(1), Buffer.from('coldef'), eof(2), row, row, eof(2)]);
  assert.deepEqual(seen, [true, true, true, true, true, false]);
});

test('CLIENT_DEPRECATE_EOF: no EOF after columns, an OK (0xFE) ends the rows; more results continue', () => {
  const t = new MysqlResponseTracker(true);
  t.clientPacket(0, query);
  const endWithMore = Buffer.from(encodeMysqlOk({ status: 0x000a }));
  endWithMore[0] = 0xfe;
  const endLast = Buffer.from(encodeMysqlOk({ status: 0x0002 }));
  endLast[0] = 0xfe;
  const seen = feed(t, [lenencInt(2), Buffer.from('c1'), Buffer.from('c2'), row, endWithMore, encodeMysqlOk()]);
  assert.deepEqual(seen, [true, true, true, true, true, false]);
  t.clientPacket(0, query);
  assert.deepEqual(feed(t, [lenencInt(1), Buffer.from('c'), endLast]), [true, true, false]);
});

test('OK and ERR answers end at once; other commands and unreadable packets are unknown, not mid-response', () => {
  const t = new MysqlResponseTracker(false);
  t.clientPacket(0, query);
  assert.deepEqual(feed(t, [encodeMysqlOk()]), [false]);
  t.clientPacket(0, query);
  assert.deepEqual(feed(t, [Buffer.from([0xff, 0x10, 0x04])]), [false]);
  t.clientPacket(0, Buffer.from([0x16, 0x73]));
  assert.equal(t.midResponse(), false);
  t.clientPacket(0, query);
  assert.deepEqual(feed(t, [Buffer.from([0xfc, 0x01])]), [false], 'a cut-off column count');
});
