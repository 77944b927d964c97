// `gatectl auth sign --format db`: a database's server certificate from the cluster's database CA.
// The key is generated here, on the admin's machine, and never leaves it; auth signs the public
// half. Writes PREFIX.key (0600), PREFIX.crt and PREFIX.cas (the database CA the database trusts
// for the db service's client certificates), then prints the database settings that use them.
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { onAction } from '../../src-shared/cli/program.ts';
import { parseDurationMs } from '../resources/duration.ts';
import { addAdminTargetOptions, adminClient, adminTargetOf, type AuthClient } from './admin-client.ts';

export const SIGN_FORMATS = ['db'] as const;

export interface SignOptions {
  format?: string;
  host?: string;
  out?: string;
  ttl?: string;
  overwrite?: boolean;
}

export interface SignedFiles {
  key: string;
  crt: string;
  cas: string;
  expires: Date;
  hosts: string[];
}

/** The checked request: hosts split on commas, the TTL in seconds (0 = the server's default). */
export function signRequest(o: SignOptions): { hosts: string[]; out: string; ttlSeconds: number } {
  if (o.format !== 'db') {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `--format ${JSON.stringify(o.format ?? '')} is not supported; use --format ${SIGN_FORMATS.join('|')}`,
    );
  }
  const hosts = (o.host ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '');
  if (hosts.length === 0) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, '--host is required: the names or IPs the database answers on');
  }
  if (!o.out) throw new GatehouseError(ErrorCode.BAD_REQUEST, '--out PREFIX is required (writes PREFIX.key/.crt/.cas)');
  let ttlSeconds = 0;
  if (o.ttl !== undefined) {
    try {
      ttlSeconds = Math.floor(parseDurationMs(o.ttl) / 1000);
    } catch (e) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `--ttl: ${(e as Error).message}`);
    }
  }
  return { hosts, out: o.out, ttlSeconds };
}

/** Writes a new file; an existing one is kept unless `overwrite` (a key is not replaced by accident). */
function writeNew(path: string, text: string, mode: number, overwrite: boolean): void {
  try {
    writeFileSync(path, text, { mode, flag: overwrite ? 'w' : 'wx' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      throw new GatehouseError(ErrorCode.ALREADY_EXISTS, `${path} already exists; pass --overwrite to replace it`);
    }
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `cannot write ${path}: ${code ?? (e as Error).message}`);
  }
}

export async function signDatabaseCert(client: AuthClient, o: SignOptions): Promise<SignedFiles> {
  const { hosts, out, ttlSeconds } = signRequest(o);
  // ECDSA P-256: what auth signs for, and what PostgreSQL and MariaDB (OpenSSL) accept.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const res = await client.signDatabaseServerCertificate({
    tlsPublicKeyPem: createPublicKey(privateKey).export({ format: 'pem', type: 'spki' }) as string,
    hosts,
    ttlSeconds: BigInt(ttlSeconds),
  });
  const prefix = resolve(out);
  const files = { key: `${prefix}.key`, crt: `${prefix}.crt`, cas: `${prefix}.cas` };
  const overwrite = o.overwrite === true;
  // The key first and private: the certificate is useless without it, the reverse is not true.
  writeNew(files.key, privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, 0o600, overwrite);
  writeNew(files.crt, res.tlsCertPem, 0o644, overwrite);
  writeNew(files.cas, res.dbCaPems.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join(''), 0o644, overwrite);
  return { ...files, hosts, expires: new Date(Number(res.expiresUnix) * 1000) };
}

/** What to put in PostgreSQL's and MariaDB's configuration to use the files. */
export function databaseSettings(f: SignedFiles): string {
  return [
    `Wrote ${f.key} (private key, mode 0600), ${f.crt} (server certificate for ${f.hosts.join(', ')}, expires ${f.expires.toISOString()}) and ${f.cas} (the cluster's database CA).`,
    'The database server process must be able to read the key (e.g. chown postgres or mysql).',
    '',
    'PostgreSQL, postgresql.conf:',
    `  ssl = on`,
    `  ssl_cert_file = '${f.crt}'`,
    `  ssl_key_file = '${f.key}'`,
    `  ssl_ca_file = '${f.cas}'`,
    'pg_hba.conf (the db service logs in with a client certificate whose CN is the database user):',
    '  hostssl all all <db service address>/32 cert',
    '',
    'MariaDB / MySQL, my.cnf [mysqld]:',
    `  ssl-cert = ${f.crt}`,
    `  ssl-key = ${f.key}`,
    `  ssl-ca = ${f.cas}`,
    '  require-secure-transport = ON',
    "and for each database user (drop MariaDB's anonymous users first: they match before it):",
    "  CREATE USER 'alice'@'%' REQUIRE SUBJECT '/CN=alice';",
    '',
  ].join('\n');
}

export function registerAuthSignCommand(auth: Command): void {
  const sign = auth
    .command('sign')
    .summary("sign a database's server certificate with the cluster's database CA")
    .description(
      'Generates a key pair here, has the database CA sign a server certificate for --host, and writes\n' +
        'PREFIX.key (0600), PREFIX.crt and PREFIX.cas; prints the PostgreSQL and MariaDB settings.',
    )
    .option('--format <FORMAT>', `what the certificate is for: ${SIGN_FORMATS.join(', ')}`)
    .option('--host <HOSTS>', 'comma-separated DNS names and/or IPs the database answers on (the first is the CN)')
    .option('--out <PREFIX>', 'where to write PREFIX.key, PREFIX.crt and PREFIX.cas')
    .option('--ttl <DURATION>', 'lifetime, e.g. 2160h (default 90 days, at most 8760h)')
    .option('--overwrite', 'replace existing files');
  addAdminTargetOptions(sign);
  onAction(sign, async (cmd) => {
    const files = await signDatabaseCert(adminClient(adminTargetOf(cmd)), cmd.opts<SignOptions>());
    process.stdout.write(databaseSettings(files));
  });
}
