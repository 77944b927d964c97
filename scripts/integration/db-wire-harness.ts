// Test-only: the database wire path without the cluster — a real client (psql, mariadb) connects
// to a local listener that runs a gateway front (src-main), which opens a loopback TCP "tunnel" to
// a listener running the db service engine (src-cluster), which logs in to a real database. The
// proxy and the db service's authorization are left out: the tests here are about the protocols.
// It lives in scripts/integration because it is the one test folder that may import both sides.
import * as net from 'node:net';
import { spawn } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { relayBytes } from '../../src-shared/byte-relay.ts';
import { createLogger } from '../../src-shared/logger.ts';
import type { DbClientFront } from '../../src-main/gateways/db/front.ts';
import type { DbEngine, DbEngineSession, DbUpstream } from '../../src-cluster/db/engine.ts';
import { makeCa, makeLeaf } from '../../test-support/test-pki.ts';

export interface WirePki {
  caPem: string;
  server: { certPem: string; keyPem: string };
  /** CN = alice: what the db service would hold for db user alice. */
  alice: { certPem: string; keyPem: string };
}

export async function makeWirePki(): Promise<WirePki> {
  const ca = await makeCa('test database CA');
  const server = await makeLeaf(ca, { cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'] });
  const alice = await makeLeaf(ca, { cn: 'alice', client: true });
  return { caPem: ca.certPem, server, alice };
}

export interface WirePathOptions {
  front: DbClientFront;
  engine: DbEngine;
  upstream: DbUpstream;
  /** The authorization the db service would decide: refuse with a message, or the db user / name to force. */
  authorize(login: { dbUser: string; dbName?: string }): { refuse: string } | { dbUser: string; dbName?: string };
  pinned?: { dbUser?: string; dbName?: string };
}

export interface WirePath {
  port: number;
  queries: string[];
  sessions: DbEngineSession[];
  totals: Array<{ bytesIn: number; bytesOut: number }>;
  close(): Promise<void>;
}

/** Starts the front listener and the engine listener; `port` is where a client connects. */
export async function startWirePath(opts: WirePathOptions): Promise<WirePath> {
  const log = createLogger({ level: 'warn', component: 'db-wire-test' });
  const queries: string[] = [];
  const sessions: DbEngineSession[] = [];
  const totals: WirePath['totals'] = [];
  const sockets = new Set<net.Socket>();
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  let pending: { dbUser: string; dbName?: string } | undefined;
  const engineServer = net.createServer((tunnel) => {
    track(tunnel);
    const authorized = pending!;
    const session = opts.engine.start({
      client: tunnel,
      database: 'orders',
      dbUser: authorized.dbUser,
      ...(authorized.dbName !== undefined ? { dbName: authorized.dbName } : {}),
      upstream: opts.upstream,
      onQuery: (statement) => queries.push(statement),
      log,
    });
    sessions.push(session);
    void session.done.then((t) => totals.push(t));
  });
  const enginePort = await listen(engineServer);
  const frontServer = net.createServer((local) => {
    track(local);
    void (async () => {
      const login = await opts.front.open(local, opts.pinned ?? {}, 5_000).catch(() => undefined);
      if (!login) return local.destroy();
      const decision = opts.authorize(login);
      if ('refuse' in decision) return opts.front.refuse(local, decision.refuse);
      pending = decision;
      const tunnel = net.connect({ host: '127.0.0.1', port: enginePort });
      track(tunnel);
      tunnel.write(login.loginMessage);
      relayBytes(local, tunnel);
      relayBytes(tunnel, local);
      tunnel.on('close', () => local.destroy());
      local.on('close', () => tunnel.destroy());
    })();
  });
  const port = await listen(frontServer);
  return {
    port,
    queries,
    sessions,
    totals,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([close(frontServer), close(engineServer)]);
    },
  };
}

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a client binary to its end (bounded); `whileRunning` may act on it meanwhile. */
export function runClient(command: string, args: string[], input = '', timeoutMs = 30_000): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PGCONNECT_TIMEOUT: '10' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** Resolves once `check` is true (polled), or rejects after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
