// Test-only engine: relays the client's bytes to the database unchanged over the upstream TLS the
// db service prepared. It speaks no protocol beyond what TLS needs: with `postgresSslRequest` it
// first sends PostgreSQL's SSLRequest and expects 'S' (PostgreSQL 15 starts TLS only that way).
// It reports each client chunk as a "statement" so tests can see onQuery reach the audit log.
import type * as tls from 'node:tls';
import type * as net from 'node:net';
import type { DbEngine, DbEngineSession, DbSessionContext } from '../engine.ts';
import { connectTcp, upgradeTls } from '../engine-relay.ts';

const SSL_REQUEST = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

export interface PassthroughEngineOptions {
  protocol?: 'postgres' | 'mysql';
  postgresSslRequest?: boolean;
  /** Report each client chunk as a statement (its UTF-8 text). */
  reportChunks?: boolean;
}

export interface PassthroughEngine extends DbEngine {
  /** Every context the engine was started with, newest last. */
  readonly started: DbSessionContext[];
  /** Every termination reason it was asked for. */
  readonly terminated: string[];
}

/** PostgreSQL's SSLRequest and its one-byte answer, in plain, before TLS. */
async function postgresSslRequest(socket: net.Socket, database: string): Promise<void> {
  socket.write(SSL_REQUEST);
  const answer = await new Promise<Buffer>((resolve, reject) => {
    socket.once('data', resolve);
    socket.once('error', reject);
  });
  if (answer[0] !== 0x53) throw new Error(`database "${database}" refused TLS`);
}

async function connectUpstream(ctx: DbSessionContext, opts: PassthroughEngineOptions): Promise<tls.TLSSocket> {
  const { host, port, timeoutMs, tls } = ctx.upstream;
  const socket = await connectTcp(host, port, timeoutMs, ctx.database);
  if (opts.postgresSslRequest) await postgresSslRequest(socket, ctx.database);
  return upgradeTls(socket, tls, timeoutMs, ctx.database);
}

export function passthroughEngine(opts: PassthroughEngineOptions = {}): PassthroughEngine {
  const started: DbSessionContext[] = [];
  const terminated: string[] = [];
  return {
    protocol: opts.protocol ?? 'postgres',
    started,
    terminated,
    start(ctx: DbSessionContext): DbEngineSession {
      started.push(ctx);
      let bytesIn = 0;
      let bytesOut = 0;
      let upstream: tls.TLSSocket | undefined;
      const done = new Promise<{ bytesIn: number; bytesOut: number }>((resolve) => {
        const finish = () => {
          upstream?.destroy();
          ctx.client.destroy();
          resolve({ bytesIn, bytesOut });
        };
        ctx.client.once('close', finish);
        ctx.client.on('error', () => {});
        connectUpstream(ctx, opts).then(
          (up) => {
            upstream = up;
            up.on('error', () => ctx.client.destroy());
            up.once('close', () => ctx.client.destroy());
            ctx.client.on('data', (chunk: Buffer) => {
              bytesIn += chunk.length;
              if (opts.reportChunks) ctx.onQuery(chunk.toString('utf8'));
              up.write(chunk);
            });
            up.on('data', (chunk: Buffer) => {
              bytesOut += chunk.length;
              ctx.client.write(chunk);
            });
            ctx.client.resume();
          },
          (e: Error) => {
            ctx.log.warn('passthrough engine: upstream failed', { error: e.message });
            ctx.client.end(`upstream failed: ${e.message}\n`);
          },
        );
      });
      return {
        done,
        terminate(reason: string) {
          terminated.push(reason);
          ctx.client.end(`terminated: ${reason}\n`);
          upstream?.destroy();
        },
      };
    },
  };
}
