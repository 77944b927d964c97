// The vendored ssh2's pooled packet buffers (vendor/ssh2/lib/protocol/gatehouse-packet-pool.js,
// change `packet-pool`): a buffer goes back into the pool only after the socket released it, and
// bulk data still arrives intact when every packet's buffer is reused, also when a slow reader
// makes the sender's writes wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { type AddressInfo, createServer, Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import ssh2 from 'ssh2';
import { privateKeyToOpenSSH } from './sshcert/index.ts';

interface PacketPoolInstance {
  alloc(size: number): Buffer;
  releaserFor(packet: Buffer): (() => void) | undefined;
  free(): void;
}
interface PacketPoolModule {
  PacketPool: new () => PacketPoolInstance;
  writePacket(socket: NodeJS.WritableStream, data: Buffer, onReleased?: () => void): void;
  POOLED_PACKET_BYTES: number;
  MIN_POOLED_PACKET_BYTES: number;
  MAX_FREE_BUFFERS: number;
}
const pool = createRequire(import.meta.url)('ssh2/lib/protocol/gatehouse-packet-pool.js') as PacketPoolModule;
const { PacketPool, writePacket, POOLED_PACKET_BYTES, MIN_POOLED_PACKET_BYTES, MAX_FREE_BUFFERS } = pool;

test('a pooled buffer is reused only after its release, and only up to the free-list bound', () => {
  const p = new PacketPool();
  const first = p.alloc(40_000);
  assert.equal(first.length, 40_000);
  const release = p.releaserFor(first);
  assert.ok(release, 'a 40 KB packet is pooled');
  const unreleased = p.alloc(40_000);
  assert.notEqual(unreleased.buffer, first.buffer, 'a buffer still with the socket is not handed out again');
  release();
  assert.equal(p.alloc(POOLED_PACKET_BYTES).buffer, first.buffer, 'released: the next packet reuses it');

  const many = Array.from({ length: MAX_FREE_BUFFERS + 3 }, () => p.alloc(MIN_POOLED_PACKET_BYTES));
  for (const b of many) p.releaserFor(b)!();
  const reused = new Set(many.map((b) => b.buffer));
  const again = Array.from({ length: MAX_FREE_BUFFERS + 3 }, () => p.alloc(MIN_POOLED_PACKET_BYTES));
  assert.equal(again.filter((b) => reused.has(b.buffer)).length, MAX_FREE_BUFFERS);
});

test('small, oversized and foreign buffers are never pooled, and a freed pool keeps nothing', () => {
  const p = new PacketPool();
  assert.equal(p.releaserFor(p.alloc(MIN_POOLED_PACKET_BYTES - 1)), undefined);
  assert.equal(p.releaserFor(p.alloc(POOLED_PACKET_BYTES + 1)), undefined);
  assert.equal(p.releaserFor(Buffer.allocUnsafe(POOLED_PACKET_BYTES)), undefined, 'not made by this pool');
  const b = p.alloc(50_000);
  const release = p.releaserFor(b)!;
  p.free();
  release();
  assert.notEqual(p.alloc(50_000).buffer, b.buffer);
});

test('writePacket releases only through a socket: a PassThrough keeps the buffer its reader gets', async () => {
  let released = 0;
  const through = new PassThrough();
  writePacket(through, Buffer.from('kept by the reader'), () => released++);
  await new Promise((r) => setImmediate(r));
  assert.equal(released, 0);
  assert.equal(String(through.read()), 'kept by the reader');

  const server = createServer((s) => s.resume());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const sock = new Socket();
  await new Promise<void>((r) => sock.connect((server.address() as AddressInfo).port, '127.0.0.1', r));
  await new Promise<void>((r) => writePacket(sock, Buffer.alloc(1000), r));
  sock.destroy();
  server.close();
});

/** An ssh2 server whose exec channel writes `data` in 64 KiB chunks; the client hashes what it gets. */
async function transfer(data: Buffer, slowReader: boolean): Promise<string> {
  const hostKey = privateKeyToOpenSSH(generateKeyPairSync('ed25519').privateKey);
  const server = new ssh2.Server({ hostKeys: [hostKey] }, (conn) => {
    conn.on('authentication', (ctx) => ctx.accept());
    conn.on('ready', () =>
      conn.on('session', (accept) =>
        accept().on('exec', (acceptExec) => {
          const ch = acceptExec();
          let at = 0;
          const more = () => {
            while (at < data.length) {
              const ok = ch.write(data.subarray(at, (at += 64 * 1024)));
              if (!ok) return void ch.once('drain', more);
            }
            ch.exit(0);
            ch.end();
          };
          more();
        }),
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new ssh2.Client();
  try {
    return await new Promise<string>((resolve, reject) => {
      client.once('error', reject);
      client.once('ready', () =>
        client.exec('stream', (err, ch) => {
          if (err) return reject(err);
          const hash = createHash('sha256');
          ch.on('data', (d: Buffer) => {
            hash.update(d);
            if (!slowReader) return;
            // Stop reading now and then so the server's socket writes queue and finish later.
            ch.pause();
            setTimeout(() => ch.resume(), 2);
          });
          ch.once('close', () => resolve(hash.digest('hex')));
        }),
      );
      client.connect({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        username: 'pool',
        algorithms: { cipher: ['aes128-gcm@openssh.com'] },
      });
    });
  } finally {
    client.end();
    server.close();
  }
}

for (const slowReader of [false, true]) {
  test(`bulk data through reused packet buffers arrives intact (${slowReader ? 'slow' : 'fast'} reader)`, async () => {
    const data = randomBytes(8 * 1024 * 1024 + 12_345);
    const expected = createHash('sha256').update(data).digest('hex');
    assert.equal(await transfer(data, slowReader), expected);
  });
}
