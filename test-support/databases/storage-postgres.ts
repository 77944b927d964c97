// Test-only: a PostgreSQL 15 server for the cluster's own storage (not a database behind the db
// service): TLS with a throwaway CA, the `gatehouse` role authenticating with a client certificate,
// and one fresh database per caller, so test files and tests never see each other's rows.
import { randomBytes } from 'node:crypto';
import { makeCa, makeLeaf } from '../test-pki.ts';
import { startPostgres, type PostgresServer } from './postgres.ts';
import type { ClientCertFiles } from './server-process.ts';

export const STORAGE_DB_USER = 'gatehouse';

export interface StoragePostgres {
  server: PostgresServer;
  /** Client cert/key and the CA that signed the server's certificate. */
  client: ClientCertFiles & { caFile: string };
  /** Creates an empty database owned by the gatehouse role; returns its verify-full URL. */
  freshDatabase(prefix?: string): string;
  /** A verify-full URL for `database` with another CA file (or other query parameters). */
  url(database: string, params?: Record<string, string>): string;
  /** Client files whose CA did NOT sign the server's certificate. */
  wrongCaFile: string;
  stop(): Promise<void>;
}

/** Starts the server; call stop() when done (t.after / after). */
export async function startStoragePostgres(): Promise<StoragePostgres> {
  const ca = await makeCa('Gatehouse storage test CA');
  const otherCa = await makeCa('Some other CA');
  const serverCert = await makeLeaf(ca, { cn: 'localhost', dns: ['localhost'], ips: ['127.0.0.1'] });
  const clientCert = await makeLeaf(ca, { cn: STORAGE_DB_USER, client: true });
  const server = await startPostgres({
    serverCertPem: serverCert.certPem,
    serverKeyPem: serverCert.keyPem,
    clientCaPem: ca.certPem,
    users: [{ name: STORAGE_DB_USER }],
    maxConnections: 200,
  });
  const client = server.clientFiles(STORAGE_DB_USER, clientCert, ca.certPem) as ClientCertFiles & { caFile: string };
  const wrong = server.clientFiles('wrong-ca', clientCert, otherCa.certPem);
  const url = (database: string, params: Record<string, string> = {}): string => {
    const query = new URLSearchParams({
      sslmode: 'verify-full',
      sslrootcert: client.caFile,
      sslcert: client.certFile,
      sslkey: client.keyFile,
      ...params,
    });
    return `postgres://${STORAGE_DB_USER}@127.0.0.1:${server.port}/${database}?${query.toString()}`;
  };
  return {
    server,
    client,
    wrongCaFile: wrong.caFile!,
    url,
    freshDatabase(prefix = 'gh') {
      const name = `${prefix}_${randomBytes(6).toString('hex')}`;
      server.admin(`CREATE DATABASE ${name} OWNER ${STORAGE_DB_USER};`);
      return url(name);
    },
    stop: () => server.stop(),
  };
}
