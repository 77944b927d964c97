import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  PG_MAX_STARTUP_BYTES,
  PgMessageFramer,
  encodePgError,
  encodePgSslRequest,
  encodePgStartup,
  parsePgErrorFields,
  parsePgOpening,
  pgStatementText,
  withPgLogin,
} from './postgres.ts';
import { STATEMENT_TEXT_LIMIT, TRUNCATED_MARKER, capStatement } from './statement.ts';

function frontend(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

test('a StartupMessage round-trips with its parameters in order, and login values replace user and database', () => {
  const packet = encodePgStartup(
    new Map([
      ['user', 'bob'],
      ['application_name', 'psql'],
      ['database', 'x'],
    ]),
  );
  const opening = parsePgOpening(packet);
  assert.equal(opening.kind, 'startup');
  if (opening.kind !== 'startup') return;
  assert.deepEqual(
    [...opening.parameters],
    [
      ['user', 'bob'],
      ['application_name', 'psql'],
      ['database', 'x'],
    ],
  );
  const forced = withPgLogin(opening.parameters, { user: 'alice' });
  assert.equal(forced.get('user'), 'alice');
  assert.equal(forced.get('database'), 'alice', 'no database: PostgreSQL defaults to the user name');
  assert.equal(forced.get('application_name'), 'psql');
  assert.equal(withPgLogin(forced, { user: 'alice', database: 'orders' }).get('database'), 'orders');
});

test('SSLRequest, GSSENCRequest and CancelRequest are recognised', () => {
  assert.deepEqual(parsePgOpening(encodePgSslRequest()), { kind: 'ssl' });
  const gss = Buffer.alloc(8);
  gss.writeInt32BE(8, 0);
  gss.writeInt32BE(80877104, 4);
  assert.deepEqual(parsePgOpening(gss), { kind: 'gssenc' });
  const cancel = Buffer.alloc(16);
  cancel.writeInt32BE(16, 0);
  cancel.writeInt32BE(80877102, 4);
  cancel.writeInt32BE(42, 8);
  cancel.writeInt32BE(7, 12);
  const parsed = parsePgOpening(cancel);
  assert.equal(parsed.kind, 'cancel');
  assert.equal(parsed.kind === 'cancel' && parsed.processId, 42);
});

test('bad openings are refused with a clear error', () => {
  const huge = Buffer.alloc(8);
  huge.writeInt32BE(PG_MAX_STARTUP_BYTES + 1, 0);
  assert.throws(() => parsePgOpening(huge), /outside 8\.\.65536/);
  const v2 = Buffer.alloc(9);
  v2.writeInt32BE(9, 0);
  v2.writeInt32BE(0x00020000, 4);
  assert.throws(() => parsePgOpening(v2), /unsupported protocol version 2\.0/);
  const unterminated = encodePgStartup(new Map([['user', 'a']])).subarray(0, -1);
  unterminated.writeInt32BE(unterminated.length, 0);
  assert.throws(() => parsePgOpening(unterminated), /not terminated/);
  assert.throws(() => encodePgStartup(new Map([['user', 'a\0b']])), /NUL/);
});

test('an ErrorResponse carries FATAL, the SQLSTATE and the message', () => {
  const packet = encodePgError({ code: '28000', message: 'access to db orders denied: locked' });
  assert.equal(packet.toString('latin1', 0, 1), 'E');
  assert.equal(packet.readInt32BE(1), packet.length - 1);
  const fields = parsePgErrorFields(packet.subarray(5));
  assert.equal(fields.get('S'), 'FATAL');
  assert.equal(fields.get('C'), '28000');
  assert.equal(fields.get('M'), 'access to db orders denied: locked');
});

test('the framer reports Query and Parse texts across any chunking and knows the boundaries', () => {
  const stream = Buffer.concat([
    frontend('Q', Buffer.from('select 1\0')),
    frontend('S', Buffer.alloc(0)),
    frontend('P', Buffer.from('stmt1\0select $1::int\0\0\0')),
    frontend('X', Buffer.alloc(0)),
  ]);
  for (const size of [1, 2, 3, 7, stream.length]) {
    const seen: string[] = [];
    const framer = new PgMessageFramer(new Set(['Q', 'P']), (type, body) => {
      seen.push(`${type}:${pgStatementText(type, body)?.text}`);
    });
    for (let at = 0; at < stream.length; at += size) framer.push(stream.subarray(at, at + size));
    assert.deepEqual(seen, ['Q:select 1', 'P:select $1::int'], `chunks of ${size}`);
    assert.ok(framer.atBoundary());
  }
  const framer = new PgMessageFramer(new Set(), () => {});
  const first = frontend('D', Buffer.alloc(10));
  framer.push(first.subarray(0, 3));
  assert.equal(framer.atBoundary(), false);
  assert.equal(framer.bytesToBoundary(Buffer.concat([first.subarray(3), Buffer.from('Zxx')])), first.length - 3);
  assert.equal(framer.bytesToBoundary(first.subarray(3, 6)), -1);
  framer.push(first.subarray(3));
  assert.equal(framer.bytesToBoundary(Buffer.from('Z')), 0);
});

test('a long statement is kept only to its cap and marked truncated', () => {
  const text = 'select ' + 'x'.repeat(100_000);
  let reported = '';
  const framer = new PgMessageFramer(new Set(['Q']), (type, body) => {
    const statement = pgStatementText(type, body)!;
    reported = capStatement(statement.text, statement.cut);
  });
  framer.push(frontend('Q', Buffer.from(text + '\0')));
  assert.ok(reported.endsWith(TRUNCATED_MARKER));
  assert.equal(Buffer.byteLength(reported) - Buffer.byteLength(TRUNCATED_MARKER), STATEMENT_TEXT_LIMIT);
  assert.equal(capStatement('select 1', false), 'select 1');
});
