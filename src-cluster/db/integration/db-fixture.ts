// The database-access integration tests' common ground: a real cluster with a db service, a real
// PostgreSQL and a real MariaDB whose server certificates come from the cluster's database CA
// (`gatectl auth sign --format db`, as an admin would set them up), both registered as `kind: db`
// resources, and helpers that run the real `gate proxy db` gateway and the real psql / mariadb
// clients through it. Each test file starts its own; stop() tears all of it down.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { freePort, TestCluster, type ClusterOptions } from '../../integration/harness.ts';
import { startPostgres, PSQL, type PostgresServer } from '../../../test-support/databases/postgres.ts';
import { startMariaDb, MARIADB, type MariaDbServer } from '../../../test-support/databases/mariadb.ts';
import type { DatabaseServerOptions } from '../../../test-support/databases/server-process.ts';

/** Database-side users: alice may be reached through roles that allow her; bob and admin are the denied ones. */
export const DB_USERS = [{ name: 'alice' }, { name: 'bob' }, { name: 'admin', superuser: true }];
/** orders is alice's; payroll is bob's but alice could open it too, so only Gatehouse can refuse it. */
export const DB_NAMES = [
  { name: 'orders', owner: 'alice' },
  { name: 'payroll', owner: 'bob' },
];
/** The registered resources. */
export const PG_DB = 'pg-orders';
export const MY_DB = 'maria-orders';

export interface ClientResult {
  status: number | null;
  /** stdout and stderr together: what a person sees in the terminal. */
  out: string;
}

export interface DbServerCert {
  keyPem: string;
  certPem: string;
  /** The CA the database must trust for client certificates (the cluster's database CA). */
  casPem: string;
}

/** `gatectl auth sign --format db` for `hosts`: what a database admin installs. */
export function signDbServerCert(cluster: TestCluster, hosts: string, prefixName = 'dbserver'): DbServerCert {
  const prefix = join(cluster.dir, prefixName);
  const r = cluster.gatectl(['auth', 'sign', '--format', 'db', '--host', hosts, '--out', prefix]);
  if (r.status !== 0) throw new Error(`gatectl auth sign --format db failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return {
    keyPem: readFileSync(`${prefix}.key`, 'utf8'),
    certPem: readFileSync(`${prefix}.crt`, 'utf8'),
    casPem: readFileSync(`${prefix}.cas`, 'utf8'),
  };
}

/** A `kind: db` resource as YAML; `caCertPem` becomes spec.tls.ca_cert. */
export function dbResourceYaml(opts: {
  name: string;
  protocol: 'postgres' | 'mysql';
  uri: string;
  labels?: Record<string, string>;
  caCertPem?: string;
  serverName?: string;
}): string {
  const labels = Object.entries(opts.labels ?? { env: 'test' }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  const tls = [
    ...(opts.caCertPem
      ? [
          '    ca_cert: |',
          ...opts.caCertPem
            .trim()
            .split('\n')
            .map((l) => `      ${l}`),
        ]
      : []),
    ...(opts.serverName ? [`    server_name: ${opts.serverName}`] : []),
  ];
  return [
    'kind: db',
    'version: v3',
    'metadata:',
    `  name: ${opts.name}`,
    ...(labels.length ? ['  labels:', ...labels] : []),
    'spec:',
    `  protocol: ${opts.protocol}`,
    `  uri: ${opts.uri}`,
    ...(tls.length ? ['  tls:', ...tls] : []),
    '',
  ].join('\n');
}

// dbRoleYaml lives in test-support (the src-main database tests use it too); re-exported for this folder's tests.
export { dbRoleYaml } from '../../../test-support/databases/cluster-resources.ts';

export interface DbWorld {
  cluster: TestCluster;
  pg: PostgresServer;
  maria: MariaDbServer;
  serverCert: DbServerCert;
  /** GATEHOUSE_HOME of a person's `gate`. */
  home(who: string): string;
  /** `gate` as `who` (their own GATEHOUSE_HOME). */
  gateAs(who: string, args: string[], input?: string, env?: Record<string, string>): ClientResult & { stdout: string };
  /** Adds a Gatehouse user with `roles` and logs their `gate` in. */
  addUserAndLogin(who: string, roles: string[]): void;
  stop(): Promise<void>;
}

/** The db_service section of the daemon's config: on, its own loopback listener, no static databases. */
export async function dbServiceConfig(): Promise<string> {
  return ['db_service:', '  enabled: true', `  listen_addr: 127.0.0.1:${await freePort()}`, '  databases: []', ''].join(
    '\n',
  );
}

/** Cluster + both databases (certs from the cluster's database CA) + the two resources. */
export async function startDbWorld(opts: ClusterOptions = {}): Promise<DbWorld> {
  const cluster = new TestCluster({ ...opts, extraConfig: `${await dbServiceConfig()}${opts.extraConfig ?? ''}` });
  let pg: PostgresServer | undefined;
  let maria: MariaDbServer | undefined;
  const stop = async () => {
    await cluster.destroy();
    await pg?.stop();
    await maria?.stop();
  };
  try {
    await cluster.start();
    const serverCert = signDbServerCert(cluster, '127.0.0.1,localhost');
    const serverOpts: DatabaseServerOptions = {
      serverCertPem: serverCert.certPem,
      serverKeyPem: serverCert.keyPem,
      clientCaPem: serverCert.casPem,
      users: DB_USERS,
      databases: DB_NAMES,
    };
    pg = await startPostgres(serverOpts);
    maria = await startMariaDb(serverOpts);
    // MariaDB would refuse alice on payroll and bob on orders by itself (PostgreSQL lets every
    // user connect to every database); grant them so only Gatehouse can refuse them.
    maria.admin("GRANT ALL PRIVILEGES ON payroll.* TO 'alice'@'%'; GRANT ALL PRIVILEGES ON orders.* TO 'bob'@'%';");
    cluster.apply(dbResourceYaml({ name: PG_DB, protocol: 'postgres', uri: `127.0.0.1:${pg.port}` }));
    cluster.apply(dbResourceYaml({ name: MY_DB, protocol: 'mysql', uri: `127.0.0.1:${maria.port}` }));
    const home = (who: string) => join(cluster.dir, `home-${who}`);
    const gateAs = (who: string, args: string[], input = '', env: Record<string, string> = {}) => {
      const r = cluster.gate(args, input, { GATEHOUSE_HOME: home(who), ...env });
      return { status: r.status, out: r.stdout + r.stderr, stdout: r.stdout };
    };
    return {
      cluster,
      pg,
      maria,
      serverCert,
      home,
      gateAs,
      addUserAndLogin(who, roles) {
        const password = `${who}-password-1`;
        const add = cluster.gatectl(
          ['users', 'add', who, `--roles=${roles.join(',')}`, '--password-stdin'],
          `${password}\n`,
        );
        if (add.status !== 0) throw new Error(`gatectl users add ${who} failed:\n${add.stderr}`);
        const login = gateAs(
          who,
          ['login', '--proxy', cluster.proxyAddr, '--ca-pin', cluster.caPin, '--user', who, '--password-stdin'],
          `${password}\n`,
        );
        if (login.status !== 0) throw new Error(`gate login ${who} failed:\n${login.out}`);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface Gateway {
  port: number;
  /** The `gate proxy db` process (e.g. to read its memory). */
  pid: number | undefined;
  /** What `gate proxy db` printed so far. */
  output(): string;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * `gate proxy db NAME [--db-user U] [--db-name D] --port P --tunnel` as `who`, running until
 * stop(); resolves once its local port accepts connections.
 */
export async function startGateway(
  world: Pick<DbWorld, 'cluster' | 'home'>,
  who: string,
  db: string,
  pin: { dbUser?: string; dbName?: string } = {},
  env: Record<string, string> = {},
): Promise<Gateway> {
  const port = await freePort();
  const args = [
    'proxy',
    'db',
    db,
    ...(pin.dbUser ? ['--db-user', pin.dbUser] : []),
    ...(pin.dbName ? ['--db-name', pin.dbName] : []),
    '--port',
    String(port),
    '--tunnel',
  ];
  const child: ChildProcess = spawn(process.execPath, world.cluster.gateArgv(args), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GATEHOUSE_DATA_DIR: world.cluster.dataDir, GATEHOUSE_HOME: world.home(who), ...env },
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gate ${args.join(' ')} exited ${child.exitCode}:\n${output}`);
    if (await canConnect(port)) return { port, pid: child.pid, output: () => output, stop };
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`gate ${args.join(' ')} did not listen on 127.0.0.1:${port} within 20 s:\n${output}`);
}

/** psql through a gateway: plain to the local port (the gateway answers SSLRequest 'N'); -A -t output. */
export function psqlArgsVia(port: number, user: string, database: string): string[] {
  return [
    '-X',
    '-w',
    '-A',
    '-t',
    '-v',
    'ON_ERROR_STOP=1',
    `host=127.0.0.1 port=${port} user=${user} dbname=${database} sslmode=disable connect_timeout=10`,
  ];
}

export function psqlVia(port: number, user: string, database: string, sql: string): ClientResult {
  const r = spawnSync(PSQL, [...psqlArgsVia(port, user, database), '-c', sql], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The mariadb client through a gateway: TCP to the local port, no TLS (the gateway is local), batch output. */
export function mariadbArgsVia(port: number, user: string, database?: string): string[] {
  return [
    '--no-defaults',
    '--protocol=TCP',
    '--host=127.0.0.1',
    `--port=${port}`,
    `--user=${user}`,
    '--skip-ssl',
    '--connect-timeout=10',
    '--batch',
    '--skip-column-names',
    ...(database ? [database] : []),
  ];
}

export function mariadbVia(port: number, user: string, database: string | undefined, sql: string): ClientResult {
  const r = spawnSync(MARIADB, [...mariadbArgsVia(port, user, database), '-e', sql], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** Events of `type` from `gatectl audit` (JSON Lines, oldest first). */
export function auditEvents(cluster: TestCluster, type: string): Record<string, unknown>[] {
  const r = cluster.gatectl(['audit', '--format', 'json', '--order', 'asc', '--limit', '5000', '--type', type]);
  if (r.status !== 0) throw new Error(`gatectl audit --type ${type} failed:\n${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
