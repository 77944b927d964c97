import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex, PassThrough } from 'node:stream';
import { ErrorCode, GatehouseError } from './errors.ts';
import { readHeaderLine, readReply, writeHeaderLine } from './ssh-route.ts';

/** One end of a pipe: what the test writes into `feed` is read from the returned stream. */
function pipeEnd(): { stream: Duplex; feed: PassThrough; sent: PassThrough } {
  const feed = new PassThrough();
  const sent = new PassThrough();
  const stream = Duplex.from({ readable: feed, writable: sent });
  return { stream, feed, sent };
}

test('header then SSH bytes: the bytes after the line stay readable', async () => {
  const { stream, feed } = pipeEnd();
  feed.write('{"node":"web1"}\nSSH-2.0-x\r\n');
  assert.deepEqual(await readHeaderLine(stream), { node: 'web1' });
  stream.resume();
  const [rest] = (await new Promise((resolve) => stream.once('data', (d) => resolve([d])))) as Buffer[];
  assert.equal(rest!.toString(), 'SSH-2.0-x\r\n');
});

test('readReply: ok resolves, a refusal keeps its code and message', async () => {
  const ok = pipeEnd();
  ok.feed.write('{"ok":true}\n');
  await readReply(ok.stream);
  const no = pipeEnd();
  no.feed.write(JSON.stringify({ ok: false, code: 'NODE_NOT_FOUND', message: 'node "x" not found' }) + '\n');
  await assert.rejects(
    readReply(no.stream),
    (e: GatehouseError) => e.code === ErrorCode.NODE_NOT_FOUND && e.message === 'node "x" not found',
  );
});

test('readReply: unknown codes, garbage and a hang-up are reported, never trusted', async () => {
  const future = pipeEnd();
  future.feed.write('{"ok":false,"code":"NEW_CODE","message":"m"}\n');
  await assert.rejects(
    readReply(future.stream),
    (e: GatehouseError) => e.code === ErrorCode.INTERNAL && e.message === 'm',
  );
  const garbage = pipeEnd();
  garbage.feed.write('SSH-2.0-OpenSSH\n');
  await assert.rejects(readReply(garbage.stream), (e: GatehouseError) => e.code === ErrorCode.INTERNAL);
  const hangup = pipeEnd();
  hangup.feed.end();
  await assert.rejects(
    readReply(hangup.stream),
    (e: GatehouseError) => e.code === ErrorCode.PROXY_UNREACHABLE && /closed the connection/.test(e.message),
  );
});

test('writeHeaderLine writes one JSON line', async () => {
  const { stream, sent } = pipeEnd();
  writeHeaderLine(stream, { node: 'db1' });
  assert.equal(String(sent.read()), '{"node":"db1"}\n');
});
