// bench:db's own minimal PostgreSQL client: open a session (optionally TLS with a client cert,
// after SSLRequest), run `select 1`, close. Hand-written rather than a library because the
// repository has no PostgreSQL client dependency, the benchmark needs only these few messages,
// and timing them in-process keeps process start-up (psql's ~10 ms) out of the figures.
// Certificate-only authentication on the server side means no password exchange here.
import { connect, type Socket } from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';

const SSL_REQUEST_CODE = 80877103;
const PROTOCOL_3_0 = 196608;
const CONNECT_TIMEOUT_MS = 10_000;
/** A server message larger than this is not what `select 1` and a login produce. */
const MAX_MESSAGE = 1 << 20;

export interface PgTarget {
  host: string;
  port: number;
  user: string;
  database: string;
  /** TLS with this client cert (SSLRequest first); plain when absent (a local gateway). */
  tls?: { certPem: string; keyPem: string };
}

function startupMessage(user: string, database: string): Buffer {
  const body = Buffer.from(`user\0${user}\0database\0${database}\0\0`, 'utf8');
  const head = Buffer.alloc(8);
  head.writeInt32BE(8 + body.length, 0);
  head.writeInt32BE(PROTOCOL_3_0, 4);
  return Buffer.concat([head, body]);
}

function queryMessage(sql: string): Buffer {
  const text = Buffer.from(`${sql}\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('Q', 0);
  head.writeInt32BE(4 + text.length, 1);
  return Buffer.concat([head, text]);
}

const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);

/** Reads server messages until ReadyForQuery ('Z'); an ErrorResponse ('E') rejects with its text. */
function untilReady(stream: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (e?: Error) => {
      stream.off('data', onData);
      stream.off('error', onError);
      stream.off('close', onClose);
      if (e) reject(e);
      else resolve();
    };
    const onError = (e: Error) => done(e);
    const onClose = () => done(new Error('the server closed the connection'));
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 5) {
        const type = String.fromCharCode(buf[0]!);
        const len = buf.readInt32BE(1);
        if (len < 4 || len > MAX_MESSAGE) return done(new Error(`bad message length ${len} (type ${type})`));
        if (buf.length < 1 + len) return;
        const body = buf.subarray(5, 1 + len);
        buf = buf.subarray(1 + len);
        if (type === 'E') return done(new Error(`server error: ${body.toString('utf8').replace(/\0/g, ' ').trim()}`));
        if (type === 'Z') return done();
      }
    };
    stream.on('data', onData);
    stream.once('error', onError);
    stream.once('close', onClose);
  });
}

function tcp(host: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    s.setNoDelay(true);
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** SSLRequest → 'S' → TLS over the same socket with the client cert. */
async function upgrade(
  socket: Socket,
  target: PgTarget & { tls: NonNullable<PgTarget['tls']> },
): Promise<tls.TLSSocket> {
  const req = Buffer.alloc(8);
  req.writeInt32BE(8, 0);
  req.writeInt32BE(SSL_REQUEST_CODE, 4);
  socket.write(req);
  const answer = await new Promise<string>((resolve, reject) => {
    socket.once('data', (d: Buffer) => resolve(String.fromCharCode(d[0]!)));
    socket.once('error', reject);
  });
  if (answer !== 'S') throw new Error(`the server declined TLS (answered "${answer}")`);
  return new Promise((resolve, reject) => {
    // The server's identity is the launcher's own test CA: not what is measured here.
    const t = tls.connect({ socket, cert: target.tls.certPem, key: target.tls.keyPem, rejectUnauthorized: false });
    t.once('secureConnect', () => resolve(t));
    t.once('error', reject);
  });
}

export interface PgSession {
  query(sql: string): Promise<void>;
  close(): void;
}

/** Opens a session and waits for the first ReadyForQuery (login done). */
export async function openSession(target: PgTarget): Promise<PgSession> {
  const socket = await tcp(target.host, target.port);
  const timer = setTimeout(() => socket.destroy(new Error('timed out opening the session')), CONNECT_TIMEOUT_MS);
  try {
    const stream: Duplex = target.tls ? await upgrade(socket, { ...target, tls: target.tls }) : socket;
    stream.write(startupMessage(target.user, target.database));
    await untilReady(stream);
    return {
      async query(sql) {
        stream.write(queryMessage(sql));
        await untilReady(stream);
      },
      close() {
        stream.end(TERMINATE, () => socket.destroy());
      },
    };
  } catch (e) {
    socket.destroy();
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Connect + `select 1` + close; resolves with the milliseconds it took. */
export async function timedSelectOne(target: PgTarget): Promise<number> {
  const t0 = performance.now();
  const session = await openSession(target);
  await session.query('select 1');
  session.close();
  return performance.now() - t0;
}
