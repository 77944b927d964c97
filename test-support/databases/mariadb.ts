// Test-only: a real MariaDB 10.11 server in a temp dir on a loopback port, TLS required
// (require_secure_transport) and users identified by their client certificate only
// (`REQUIRE SUBJECT '/CN=<user>'`, no password), as docs/database-access.md tells a database admin
// to set it up. Tuned to start fast (no flush per commit, small buffer pool): throwaway data only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  checkIdentifier,
  launchServer,
  mkdirOwned,
  requireBinary,
  runAsFor,
  runSetup,
  writeClientCertFiles,
  writeOwned,
  type ClientCertFiles,
  type DatabaseServerOptions,
} from './server-process.ts';

export const MARIADBD = process.env.GATEHOUSE_MARIADBD ?? '/usr/sbin/mariadbd';
export const MARIADB_INSTALL_DB = process.env.GATEHOUSE_MARIADB_INSTALL_DB ?? '/usr/bin/mariadb-install-db';
export const MARIADB = process.env.GATEHOUSE_MARIADB_CLIENT ?? '/usr/bin/mariadb';

export interface MariaDbOptions extends DatabaseServerOptions {
  /** Default 100. */
  maxConnections?: number;
}

export interface MariaDbTarget {
  user: string;
  database?: string;
  /** The client cert (subject /CN=user) and key; without it the server refuses the user. */
  client?: ClientCertFiles;
  /** Default 127.0.0.1 and this server's port: set them to go through a gateway instead. */
  host?: string;
  port?: number;
  /** Default true: plain TCP is refused by the server (require_secure_transport), so a test can turn it off to see that. */
  ssl?: boolean;
}

export interface MariaDbServer {
  host: string;
  port: number;
  dir: string;
  /** `mariadb` client arguments (no option files, TCP, TLS with the client's cert) for `target`; append `-e SQL`. */
  clientArgs(target: MariaDbTarget): string[];
  /** Writes a client's cert/key (0600) and optional server CA into dir/clients. */
  clientFiles(name: string, cert: { certPem: string; keyPem: string }, serverCaPem?: string): ClientCertFiles;
  /** Runs SQL as root over the local socket; returns the client's batch (tab-separated) output. */
  admin(sql: string): string;
  /** Shuts the server's process group down; removes the temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

function setupSql(opts: DatabaseServerOptions): string {
  const lines: string[] = [];
  for (const u of opts.users) {
    const name = checkIdentifier('user', u.name);
    lines.push(`CREATE USER '${name}'@'%' REQUIRE SUBJECT '/CN=${name}';`);
    if (u.superuser) lines.push(`GRANT ALL PRIVILEGES ON *.* TO '${name}'@'%' WITH GRANT OPTION;`);
  }
  for (const d of opts.databases ?? []) {
    const db = checkIdentifier('database', d.name);
    lines.push(
      `CREATE DATABASE ${db};`,
      `GRANT ALL PRIVILEGES ON ${db}.* TO '${checkIdentifier('user', d.owner)}'@'%';`,
    );
  }
  return lines.join('\n');
}

function clientArgsFor(port: number, t: MariaDbTarget): string[] {
  const tlsArgs =
    t.ssl === false
      ? ['--skip-ssl']
      : [
          '--ssl',
          ...(t.client ? [`--ssl-cert=${t.client.certFile}`, `--ssl-key=${t.client.keyFile}`] : []),
          ...(t.client?.caFile ? [`--ssl-ca=${t.client.caFile}`, '--ssl-verify-server-cert'] : []),
        ];
  return [
    '--no-defaults',
    '--protocol=TCP',
    `--host=${t.host ?? '127.0.0.1'}`,
    `--port=${t.port ?? port}`,
    `--user=${t.user}`,
    '--connect-timeout=10',
    ...tlsArgs,
    ...(t.database ? [t.database] : []),
  ];
}

/** Starts MariaDB with `opts`'s TLS identity, users and databases. Call stop() when done. */
export async function startMariaDb(opts: MariaDbOptions): Promise<MariaDbServer> {
  requireBinary(MARIADBD, 'mariadb-server (apt-get install mariadb-server)');
  requireBinary(MARIADB_INSTALL_DB, 'mariadb-server (apt-get install mariadb-server)');
  requireBinary(MARIADB, 'mariadb-client (apt-get install mariadb-client)');
  const runAs = runAsFor('mysql');
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-mariadb-'));
  const dataDir = join(dir, 'data');
  const tlsDir = join(dir, 'tls');
  const socket = join(dir, 'run', 'mysqld.sock');
  let stopServer: (() => Promise<void>) | undefined;
  const cleanup = async () => {
    await stopServer?.();
    if (!opts.keepDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    mkdirOwned(dir, runAs, 0o755);
    for (const sub of ['data', 'run', 'tmp', 'tls']) mkdirOwned(join(dir, sub), runAs);
    writeOwned(join(tlsDir, 'server.crt'), opts.serverCertPem, runAs);
    writeOwned(join(tlsDir, 'server.key'), opts.serverKeyPem, runAs, 0o600);
    writeOwned(join(tlsDir, 'client-ca.crt'), opts.clientCaPem, runAs);
    runSetup(
      'MariaDB',
      MARIADB_INSTALL_DB,
      // --no-defaults: the machine's /etc/mysql config (datadir, socket, log files) must not leak in.
      [
        '--no-defaults',
        `--datadir=${dataDir}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        '--skip-name-resolve',
      ],
      runAs,
      dir,
    );
    const server = await launchServer({
      label: 'MariaDB',
      command: MARIADBD,
      args: (port) => [
        '--no-defaults',
        `--datadir=${dataDir}`,
        `--socket=${socket}`,
        `--pid-file=${join(dir, 'run', 'mysqld.pid')}`,
        `--tmpdir=${join(dir, 'tmp')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        `--ssl-ca=${join(tlsDir, 'client-ca.crt')}`,
        `--ssl-cert=${join(tlsDir, 'server.crt')}`,
        `--ssl-key=${join(tlsDir, 'server.key')}`,
        // Plain TCP is refused; the local socket (setup) counts as secure.
        '--require-secure-transport=ON',
        `--max-connections=${opts.maxConnections ?? 100}`,
        // Throwaway data: durability costs start-up and query time and buys nothing here.
        '--innodb-flush-log-at-trx-commit=0',
        '--innodb-doublewrite=0',
        '--innodb-buffer-pool-size=32M',
        '--skip-log-bin',
      ],
      runAs,
      stopSignal: 'SIGTERM',
      ready: (out) => out.includes('ready for connections'),
      portTaken: (out) => out.includes('Address already in use'),
    });
    stopServer = server.stop;
    const admin = (sql: string): string => {
      const r = spawnSync(
        MARIADB,
        ['--no-defaults', `--socket=${socket}`, '--user=root', '--batch', '--skip-column-names'],
        {
          input: sql,
          encoding: 'utf8',
          timeout: 30_000,
        },
      );
      if (r.status !== 0) throw new Error(`MariaDB setup SQL failed (${r.status}):\n${sql}\n${r.stderr}`);
      return r.stdout;
    };
    admin(setupSql(opts));
    let stopped = false;
    return {
      host: '127.0.0.1',
      port: server.port,
      dir,
      clientArgs: (t) => clientArgsFor(server.port, t),
      clientFiles: (name, cert, serverCaPem) => writeClientCertFiles(join(dir, 'clients'), name, cert, serverCaPem),
      admin,
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
