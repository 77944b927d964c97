// The database half of the e2e world: a cluster with its db service on, a real PostgreSQL whose
// server certificate comes from the cluster's database CA (`gatectl auth sign --format db`, as an
// administrator would do it) and that trusts that CA for client certificates, the `kind: db`
// resource pointing at it, and a role that allows it. Mirrors docs/database-access.md's setup.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres, type PostgresServer } from '../../test-support/databases/postgres.ts';
import { freePort, type ClusterProcess } from '../../test-support/cluster-process.ts';

/** The registered database, the database-side user the role allows, and its database. */
export const E2E_DB = { name: 'orders', dbUser: 'alice', dbName: 'sales', labels: { env: 'e2e' } } as const;
/** The role that lets a person reach E2E_DB as E2E_DB.dbUser, any db name. */
export const DB_ROLE = 'db-e2e';
/** The same access, but only from a trusted device (this test machine's app is not enrolled). */
export const DEVICE_DB_ROLE = 'db-e2e-trusted-device';

/** The daemon's db_service section: on, its own loopback listener, databases added dynamically. */
export async function dbServiceConfig(): Promise<string> {
  return ['db_service:', '  enabled: true', `  listen_addr: 127.0.0.1:${await freePort()}`, '  databases: []', ''].join(
    '\n',
  );
}

function roleYaml(name: string, deviceTrustMode?: string): string {
  return [
    'kind: role',
    'version: v7',
    `metadata: { name: ${name} }`,
    'spec:',
    '  allow:',
    "    db_labels: { '*': '*' }",
    `    db_users: [${JSON.stringify(E2E_DB.dbUser)}]`,
    '    db_names: ["*"]',
    ...(deviceTrustMode ? ['  options:', `    device_trust_mode: ${deviceTrustMode}`] : []),
    '',
  ].join('\n');
}

function databaseYaml(port: number): string {
  return [
    'kind: db',
    'version: v3',
    'metadata:',
    `  name: ${E2E_DB.name}`,
    '  labels:',
    ...Object.entries(E2E_DB.labels).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    'spec:',
    '  protocol: postgres',
    `  uri: 127.0.0.1:${port}`,
    '',
  ].join('\n');
}

/** Signs the server cert, starts PostgreSQL with it, registers the database and the roles. */
export async function startE2eDatabase(cluster: ClusterProcess): Promise<PostgresServer> {
  const prefix = join(cluster.dir, 'e2e-dbserver');
  const signed = cluster.gatectl(['auth', 'sign', '--format', 'db', '--host', '127.0.0.1,localhost', '--out', prefix]);
  if (signed.status !== 0) {
    throw new Error(`gatectl auth sign --format db failed (${signed.status}):\n${signed.stdout}${signed.stderr}`);
  }
  const pg = await startPostgres({
    serverCertPem: readFileSync(`${prefix}.crt`, 'utf8'),
    serverKeyPem: readFileSync(`${prefix}.key`, 'utf8'),
    clientCaPem: readFileSync(`${prefix}.cas`, 'utf8'),
    users: [{ name: E2E_DB.dbUser }],
    databases: [{ name: E2E_DB.dbName, owner: E2E_DB.dbUser }],
  });
  try {
    cluster.apply(databaseYaml(pg.port));
    cluster.apply(roleYaml(DB_ROLE));
    cluster.apply(roleYaml(DEVICE_DB_ROLE, 'required'));
    return pg;
  } catch (e) {
    await pg.stop();
    throw e;
  }
}
