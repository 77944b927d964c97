// Test-only upstreams on loopback: an HTTP app that echoes what it received (method, path, raw
// headers, body size and whether it came chunked), streams a large body on /big?bytes=N, and
// echoes WebSocket messages (the `ws` package) on /ws; a TCP echo app; and clients that speak
// HTTP/1.1 and WebSocket over an already-open app service stream.
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer } from 'ws';

export interface EchoReply {
  method: string;
  url: string;
  rawHeaders: string[];
  bodyBytes: number;
  chunked: boolean;
}

export interface Upstream {
  port: number;
  /** Upstream connections accepted (keep-alive reuse shows as fewer). */
  connections: number;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 << 10, 0x61);

export async function startHttpEchoUpstream(): Promise<Upstream> {
  // Heads up to 128 KiB, so the app service's own 64 KiB limit is what a test meets.
  const server = http.createServer({ maxHeaderSize: 128 << 10 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.endsWith('/big')) {
      let left = Number(url.searchParams.get('bytes'));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) });
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, CHUNK.length);
          left -= n;
          if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    let bodyBytes = 0;
    req.on('data', (d: Buffer) => (bodyBytes += d.length));
    req.on('end', () => {
      const reply: EchoReply = {
        method: req.method ?? '',
        url: req.url ?? '',
        rawHeaders: req.rawHeaders,
        bodyBytes,
        chunked: /chunked/i.test(req.headers['transfer-encoding'] ?? ''),
      };
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'echo', 'keep-alive': 'timeout=5' });
      res.end(JSON.stringify(reply));
    });
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => ws.on('message', (m, binary) => ws.send(m, { binary })));
  const up = { port: 0, connections: 0 };
  server.on('connection', () => up.connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.port = (server.address() as AddressInfo).port;
  return Object.assign(up, {
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

export async function startTcpEchoUpstream(): Promise<Upstream> {
  const sockets = new Set<net.Socket>();
  const up = { port: 0, connections: 0 };
  const server = net.createServer((s) => {
    up.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  up.port = (server.address() as AddressInfo).port;
  return Object.assign(up, {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  });
}

/** An agent whose one connection is `stream` (HTTP/1.1 keep-alive over the app service stream). */
export function agentOver(stream: Duplex): http.Agent {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  (agent as unknown as { createConnection: () => Duplex }).createConnection = () => stream;
  return agent;
}

export interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request over `agent`; `body` may be a Buffer (Content-Length) or chunks (chunked upload). */
export function request(
  agent: http.Agent,
  opts: { method?: string; path: string; headers?: http.OutgoingHttpHeaders | string[]; body?: Buffer | Buffer[] },
): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: 'app.local',
        port: 80,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: opts.headers as http.OutgoingHttpHeaders,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (Array.isArray(opts.body)) {
      for (const c of opts.body) req.write(c);
      req.end();
    } else req.end(opts.body);
  });
}

/** A WebSocket client whose connection is `stream`. */
export function webSocketOver(stream: Duplex, path = '/ws'): Promise<WebSocket> {
  const ws = new WebSocket(`ws://app.local${path}`, { createConnection: () => stream as net.Socket });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
