// reusedReads over a real loopback TLS connection: reads arrive as ordinary copied 'data' until a
// reader takes them over, then in the one reused buffer; bytes waiting in the socket's readable
// buffer (an unshift, as the routing reply's reader does) still come first and in order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as tls from 'node:tls';
import { makeCa, makeLeaf, startTlsServer } from '../../test-support/test-pki.ts';
import { REUSED_READ_BUFFER_BYTES, reusedReads, type TakesTransientReads } from './reused-reads.ts';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('reads are copies until taken over, then come in the reused buffer, in order', async () => {
  const ca = await makeCa('reused-reads CA');
  const leaf = await makeLeaf(ca, { cn: 'server', ips: ['127.0.0.1'] });
  const greeting = Buffer.from('hello\nSSH-2.0-after-the-line\r\n');
  const bulk = randomBytes(4 * 1024 * 1024);
  let accepted!: (s: tls.TLSSocket) => void;
  const serverSocket = new Promise<tls.TLSSocket>((resolve) => (accepted = resolve));
  const server = await startTlsServer({ leaf, onSocket: (s) => accepted(s) });
  try {
    const reads = reusedReads();
    // As proxy-tunnel.ts passes it: @types/node's tls options omit `onread`, which TLS sockets honour.
    const socket = tls.connect({ port: server.port, host: '127.0.0.1', ca: [ca.certPem], ...{ onread: reads.onread } });
    reads.attach(socket);
    const serverSide = await serverSocket;

    // Before the take-over: ordinary 'data' with Buffers of their own; the reader keeps what
    // follows its line by unshifting it, as readLine does.
    serverSide.write(greeting);
    const first = await new Promise<Buffer>((resolve) => socket.once('data', resolve));
    const reused = reads.onread.buffer as Buffer;
    assert.notEqual(first.buffer, reused.buffer, 'a read before the take-over must be a copy');
    socket.pause();
    const nl = first.indexOf(0x0a);
    socket.unshift(first.subarray(nl + 1));

    const received: Buffer[] = [];
    let viaSink = 0;
    let sameBuffer = true;
    socket.on('data', (d: Buffer) => received.push(d));
    (socket as tls.TLSSocket & TakesTransientReads).gatehouseTakeReads((buf, len) => {
      sameBuffer &&= buf === reused;
      viaSink += len;
      received.push(Buffer.from(buf.subarray(0, len)));
    });
    const ended = new Promise((resolve) => socket.once('end', resolve));
    socket.resume();
    serverSide.end(bulk);
    await ended;

    const all = Buffer.concat(received);
    assert.equal(all.subarray(0, greeting.length - nl - 1).toString(), 'SSH-2.0-after-the-line\r\n');
    assert.equal(sha256(all.subarray(greeting.length - nl - 1)), sha256(bulk));
    assert.ok(viaSink > bulk.length / 2, `only ${viaSink} of ${bulk.length} bytes came through the reused buffer`);
    assert.ok(sameBuffer, 'a read came in a buffer other than the reused one');
    assert.equal(reused.length, REUSED_READ_BUFFER_BYTES);
    socket.destroy();
  } finally {
    await server.close();
  }
});
