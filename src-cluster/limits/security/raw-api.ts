// Test-only: a raw HTTP/2 + TLS client for the cluster API, so the security tests can send what
// no Connect client would (oversize bodies that are never held in memory, garbage protobuf,
// hand-made stream envelopes) and see the exact status, headers and body the daemon answers.
import * as http2 from 'node:http2';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, type RunningDaemon } from '../../daemon/daemon.ts';
import { parseConfig } from '../../daemon/config.ts';
import { createMemoryLogger } from '../../log/logger.ts';

export interface RawReply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  /** Bytes of request body the client got to write before the reply (or the stream's end). */
  sent: number;
}

/**
 * An in-process daemon (real SQLite, real TLS proxy, real node unless `node` is false) in a temp
 * dir on free loopback ports. `proxy` / `node`: extra YAML lines for those sections.
 */
export async function startTestDaemon(extra: { proxy?: string[]; node?: string[] | false } = {}): Promise<{
  daemon: RunningDaemon;
  proxy: { host: string; port: number };
  node: { host: string; port: number } | undefined;
  logs: string[];
  stop(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-limits-'));
  const yaml = [
    'proxy:',
    '  listen_addr: 127.0.0.1:0',
    ...(extra.proxy ?? []).map((l) => `  ${l}`),
    'node:',
    ...(extra.node === false
      ? ['  enabled: false']
      : ['  listen_addr: 127.0.0.1:0', ...(extra.node ?? []).map((l) => `  ${l}`)]),
  ].join('\n');
  const cfg = parseConfig(yaml, 'test');
  cfg.data_dir = dir;
  const log = createMemoryLogger('debug');
  const daemon = await startDaemon(cfg, log);
  const split = (a: string) => ({
    host: a.slice(0, a.lastIndexOf(':')),
    port: Number(a.slice(a.lastIndexOf(':') + 1)),
  });
  return {
    daemon,
    proxy: split(daemon.proxyAddress!),
    node: daemon.nodeAddress ? split(daemon.nodeAddress) : undefined,
    logs: log.lines,
    async stop() {
      await daemon.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `identity`: the daemon's admin identity file, for calls that need a client certificate. */
export function connectApi(port: number, identityPath?: string): http2.ClientHttp2Session {
  const id = identityPath
    ? (JSON.parse(readFileSync(identityPath, 'utf8')) as { key_pem: string; tls_cert_pem: string })
    : undefined;
  const session = http2.connect(`https://127.0.0.1:${port}`, {
    rejectUnauthorized: false,
    ...(id ? { key: id.key_pem, cert: id.tls_cert_pem } : {}),
  });
  session.on('error', () => {});
  return session;
}

/**
 * POSTs to `path`. `body` is a buffer, or a byte count sent as zero-filled 64 KiB chunks with
 * back-pressure (so a 300 MB body costs the test no memory). `contentLength` adds the header.
 */
export function post(
  session: http2.ClientHttp2Session,
  path: string,
  contentType: string,
  body: Buffer | number,
  contentLength?: number,
): Promise<RawReply> {
  const headers: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': path,
    'content-type': contentType,
    'connect-protocol-version': '1',
  };
  if (contentLength !== undefined) headers['content-length'] = String(contentLength);
  const req = session.request(headers);
  let sent = 0;
  let finished = false;
  const reply = new Promise<RawReply>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let status = 0;
    let resHeaders: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => {
      status = Number(h[':status']);
      resHeaders = h;
    });
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      finished = true;
      resolve({ status, headers: resHeaders, body: Buffer.concat(chunks), sent });
    });
    req.on('error', (e) =>
      status ? resolve({ status, headers: resHeaders, body: Buffer.concat(chunks), sent }) : reject(e),
    );
  });
  if (Buffer.isBuffer(body)) {
    sent = body.length;
    req.end(body);
  } else {
    const chunk = Buffer.alloc(64 << 10);
    const pump = () => {
      while (!finished && !req.destroyed && sent < body) {
        const n = Math.min(chunk.length, body - sent);
        sent += n;
        if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void req.once('drain', pump);
      }
      if (sent >= body && !req.destroyed) req.end();
    };
    pump();
  }
  return reply.finally(() => {
    if (!req.destroyed) req.close(http2.constants.NGHTTP2_CANCEL);
  });
}

/** One Connect stream envelope: flags, big-endian length, payload. */
export function envelope(payload: Buffer, flags = 0): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flags, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** The JSON of a Connect stream's end-of-stream envelope (flag 0x02). */
export function endStream(body: Buffer): { error?: { code: string; message: string } } {
  let at = 0;
  while (at + 5 <= body.length) {
    const flags = body.readUInt8(at);
    const len = body.readUInt32BE(at + 1);
    const payload = body.subarray(at + 5, at + 5 + len);
    if (flags & 0x02) return JSON.parse(payload.toString('utf8')) as { error?: { code: string; message: string } };
    at += 5 + len;
  }
  throw new Error(`no end-of-stream envelope in ${body.length} bytes`);
}
