// Checks a PostgreSQL connection string before any connection is made, so a config mistake is a
// clear CONFIG error at start rather than a driver message later. The cluster's state includes
// its CA private keys, so the connection must be TLS that verifies the server's certificate AND
// name (sslmode=verify-full): anything weaker would hand those keys to whoever can sit between
// the auth server and the database, and is refused rather than warned about.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { ClientConfig } from 'pg';
import { parseIntoClientConfig } from 'pg-connection-string';
import { TLS_CLIENT_SETTINGS } from '../../src-shared/tls-settings.ts';

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
}

function configError(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.CONFIG, message);
}

/** Parses and checks `conn` (postgres:// or postgresql:// URL); returns where it points. */
export function checkPostgresUrl(conn: string): PostgresTarget {
  if (typeof conn !== 'string' || conn.length === 0) {
    throw configError('storage.conn_string is required for storage type postgres (postgres://USER@HOST:PORT/DB?...)');
  }
  let url: URL;
  try {
    url = new URL(conn);
  } catch {
    throw configError('storage.conn_string is not a URL: expected postgres://USER@HOST:PORT/DB?sslmode=verify-full');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw configError(`storage.conn_string must start with postgres:// or postgresql://, got ${url.protocol}//`);
  }
  if (!url.hostname) throw configError('storage.conn_string names no host');
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database) throw configError('storage.conn_string names no database (postgres://USER@HOST:PORT/DB)');
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== 'verify-full') {
    throw configError(
      `storage.conn_string needs sslmode=verify-full (got ${sslmode ?? 'none'}): the database holds the ` +
        'cluster CA keys, so the server certificate and host name must be verified (add sslrootcert=CA.pem ' +
        'unless the server uses a publicly trusted certificate)',
    );
  }
  if (url.searchParams.has('uselibpqcompat')) {
    throw configError('storage.conn_string: uselibpqcompat is not supported (sslmode=verify-full is always enforced)');
  }
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : 5432,
    database,
    user: decodeURIComponent(url.username),
  };
}

/**
 * Where a connection string points, for logs and messages: no password and no query string (a
 * `password=` parameter would be a secret too; file paths and options say nothing useful there).
 */
export function redactPostgresUrl(conn: string): string {
  try {
    const url = new URL(conn);
    if (url.password) url.password = '***';
    url.search = '';
    return url.toString();
  } catch {
    return '(unparsable connection string)';
  }
}

/**
 * The pool's connection settings from a checked connection string. pg lets a connection string's
 * own TLS fields override an `ssl` object given beside it, so the string is parsed here (by pg's
 * own parser, which reads sslrootcert/sslcert/sslkey) and the cluster's TLS settings (issue 18:
 * TLS 1.2 ECDHE+AEAD or TLS 1.3) are spread into the result; verify-full stays verify-full.
 */
export function postgresClientConfig(conn: string): ClientConfig {
  checkPostgresUrl(conn);
  const parsed = parseIntoClientConfig(conn);
  const ssl = typeof parsed.ssl === 'object' ? parsed.ssl : {};
  return { ...parsed, ssl: { ...ssl, ...TLS_CLIENT_SETTINGS, rejectUnauthorized: true } };
}
