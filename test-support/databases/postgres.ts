// Test-only: a real PostgreSQL 15 server in a temp dir on a loopback port, TLS required and client
// certificate authentication only (pg_hba `hostssl ... cert`: the cert's CN is the database user),
// as docs/database-access.md tells a database admin to set it up. Tuned to start fast (no fsync,
// small buffers): it holds throwaway data only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkIdentifier,
  launchServer,
  mkdirOwned,
  runAsFor,
  requireBinary,
  runSetup,
  writeClientCertFiles,
  writeOwned,
  type ClientCertFiles,
  type DatabaseServerOptions,
  type LaunchSpec,
} from './server-process.ts';

/** Debian's versioned binaries (postgresql-15); GATEHOUSE_PG_BINDIR points elsewhere. */
export const PG_BINDIR = process.env.GATEHOUSE_PG_BINDIR ?? '/usr/lib/postgresql/15/bin';
/** The bootstrap superuser; reachable only over the local socket (trust), for setup. */
const SETUP_SUPERUSER = 'postgres';

export interface PostgresOptions extends DatabaseServerOptions {
  /** Where initdb, postgres and psql are; default PG_BINDIR. */
  binDir?: string;
  /** Default 100: enough for pgbench -c 8 and the benchmark's idle connections. */
  maxConnections?: number;
}

export interface PsqlTarget {
  user: string;
  database: string;
  /** The client cert (CN = user) and key; without it the server refuses the connection. */
  client?: ClientCertFiles;
  /** Default: verify-full when client.caFile is set, else require. */
  sslmode?: 'disable' | 'require' | 'verify-ca' | 'verify-full';
  /** Default 127.0.0.1 and this server's port: set them to go through a gateway instead. */
  host?: string;
  port?: number;
}

export interface PostgresServer {
  host: string;
  port: number;
  /** The temp dir (data/, sockets/, tls/, clients/). */
  dir: string;
  /** libpq connection string for `target`, TLS with the client's cert. */
  connectionString(target: PsqlTarget): string;
  /** psql arguments (no psqlrc, never prompt for a password) for `target`; append `-c SQL` etc. */
  psqlArgs(target: PsqlTarget): string[];
  /** Writes a client's cert/key (0600) and optional server CA into dir/clients. */
  clientFiles(name: string, cert: { certPem: string; keyPem: string }, serverCaPem?: string): ClientCertFiles;
  /** Runs SQL as the superuser over the local socket; returns psql's unaligned output. */
  admin(sql: string): string;
  /** Fast shutdown, then the same server (data, port, certificates) started again: a database restart. */
  restart(): Promise<void>;
  /** Fast shutdown of the server's process group; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

export const PSQL = join(PG_BINDIR, 'psql');

function hbaConf(): string {
  return [
    '# Setup only: the launcher, over the socket in its own 0700 temp dir.',
    'local all all trust',
    '# The one way in over the network: TLS with a client certificate whose CN is the user.',
    'hostssl all all 127.0.0.1/32 cert',
    'hostnossl all all 127.0.0.1/32 reject',
    '',
  ].join('\n');
}

function setupSql(opts: DatabaseServerOptions): string {
  const lines: string[] = [];
  for (const u of opts.users) {
    const name = checkIdentifier('user', u.name);
    lines.push(`CREATE ROLE ${name} LOGIN${u.superuser ? ' SUPERUSER' : ''};`);
  }
  for (const d of opts.databases ?? []) {
    lines.push(`CREATE DATABASE ${checkIdentifier('database', d.name)} OWNER ${checkIdentifier('user', d.owner)};`);
  }
  return lines.join('\n');
}

/** Starts PostgreSQL with `opts`'s TLS identity, users and databases. Call stop() when done. */
export async function startPostgres(opts: PostgresOptions): Promise<PostgresServer> {
  const bin = (name: string) => join(opts.binDir ?? PG_BINDIR, name);
  for (const name of ['initdb', 'postgres', 'psql']) {
    requireBinary(bin(name), 'postgresql-15 (apt-get install postgresql)');
  }
  const runAs = runAsFor('postgres');
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-pg-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'sockets');
  const tlsDir = join(dir, 'tls');
  let stopServer: (() => Promise<void>) | undefined;
  const cleanup = async () => {
    await stopServer?.();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirOwned(dir, runAs, 0o755);
    mkdirOwned(socketDir, runAs);
    mkdirOwned(tlsDir, runAs);
    writeOwned(join(tlsDir, 'server.crt'), opts.serverCertPem, runAs);
    writeOwned(join(tlsDir, 'server.key'), opts.serverKeyPem, runAs, 0o600);
    writeOwned(join(tlsDir, 'client-ca.crt'), opts.clientCaPem, runAs);
    runSetup(
      'PostgreSQL',
      bin('initdb'),
      [
        '-D',
        dataDir,
        '-U',
        SETUP_SUPERUSER,
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
        '--no-instructions',
      ],
      runAs,
      dir,
    );
    writeOwned(join(dataDir, 'pg_hba.conf'), hbaConf(), runAs, 0o600);
    const launchSpec: LaunchSpec = {
      label: 'PostgreSQL',
      command: bin('postgres'),
      args: (port) => [
        '-D',
        dataDir,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        `unix_socket_directories=${socketDir}`,
        '-c',
        'ssl=on',
        '-c',
        `ssl_cert_file=${join(tlsDir, 'server.crt')}`,
        '-c',
        `ssl_key_file=${join(tlsDir, 'server.key')}`,
        '-c',
        `ssl_ca_file=${join(tlsDir, 'client-ca.crt')}`,
        '-c',
        `max_connections=${opts.maxConnections ?? 100}`,
        // Throwaway data: durability costs start-up and query time and buys nothing here.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'shared_buffers=16MB',
        // A backend notices a client that went away mid-query (a cut session) within this.
        '-c',
        'client_connection_check_interval=500ms',
      ],
      runAs,
      // SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients to disconnect.
      stopSignal: 'SIGINT',
      ready: (out) => out.includes('database system is ready to accept connections'),
      portTaken: (out) => out.includes('Address already in use'),
    };
    const server = await launchServer(launchSpec);
    stopServer = server.stop;
    const port = server.port;
    const admin = (sql: string): string => {
      // psql -f - sends statement by statement, so CREATE DATABASE is not inside a transaction.
      const r = spawnSync(
        bin('psql'),
        [
          '-X',
          '-q',
          '-A',
          '-t',
          '-v',
          'ON_ERROR_STOP=1',
          '-h',
          socketDir,
          '-p',
          String(port),
          '-U',
          SETUP_SUPERUSER,
          '-d',
          'postgres',
          '-f',
          '-',
        ],
        { input: sql, encoding: 'utf8', timeout: 30_000 },
      );
      if (r.status !== 0) throw new Error(`PostgreSQL setup SQL failed (${r.status}):\n${sql}\n${r.stderr}`);
      return r.stdout;
    };
    admin(setupSql(opts));
    const connectionString = (t: PsqlTarget): string => {
      const sslmode = t.sslmode ?? (t.client?.caFile ? 'verify-full' : 'require');
      const parts = [
        `host=${t.host ?? '127.0.0.1'}`,
        `port=${t.port ?? port}`,
        `user=${t.user}`,
        `dbname=${t.database}`,
        `sslmode=${sslmode}`,
        'connect_timeout=10',
        ...(t.client ? [`sslcert=${t.client.certFile}`, `sslkey=${t.client.keyFile}`] : []),
        // Without a root cert libpq would look in ~/.postgresql; point it at nothing instead.
        `sslrootcert=${t.client?.caFile ?? join(dir, 'no-root-cert')}`,
      ];
      return parts.join(' ');
    };
    let stopped = false;
    return {
      host: '127.0.0.1',
      port,
      dir,
      connectionString,
      psqlArgs: (t) => ['-X', '-w', connectionString(t)],
      clientFiles: (name, cert, serverCaPem) => writeClientCertFiles(join(dir, 'clients'), name, cert, serverCaPem),
      admin,
      async restart() {
        await stopServer?.();
        stopServer = (await launchServer({ ...launchSpec, port })).stop;
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (e) {
    await cleanup();
    throw e;
  }
}
