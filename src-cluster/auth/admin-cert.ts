// Only the newest admin identity works. `gatehouse start` writes a fresh admin identity (key and
// 30-day client certificate for the built-in admin) into its data dir at every start. A copy of an
// older file (a backup, a copy someone made while they had access) used to keep full admin rights
// until its certificate expired. We chose revocation over short-lived, renewed certificates: the
// file is also gatectl's only credential on other hosts (--identity), so renewing it would mean a
// renewal protocol and breaking copies anyway. Instead each daemon records the SHA-256 of the
// certificate it just wrote, in its own slot (several daemons may share one database, each with
// its own data dir and file), and an admin certificate is accepted only while it is some slot's
// current one. Writing a new identity thus revokes that daemon's previous one at once.
import { createHash, X509Certificate } from 'node:crypto';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Backend } from '../storage/backend.ts';

const ADMIN_CERTS = '/cluster/admin_certs/';

interface AdminCertRecord {
  /** SHA-256 of the certificate DER, hex. */
  sha256: string;
  /** When the daemon wrote it (RFC 3339); named in refusals of older copies. */
  written: string;
  /** Which daemon's file it is, for the refusal's advice. */
  path: string;
}

function certSha256(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** One slot per daemon: its host and data dir. */
function slotKey(dataDir: string): string {
  const id = createHash('sha256')
    .update(`${hostname()}\0${resolve(dataDir)}`)
    .digest('hex')
    .slice(0, 32);
  return ADMIN_CERTS + id;
}

/** Makes `certPem` this daemon's only valid admin certificate; call before writing the file. */
export async function recordAdminCert(
  backend: Backend,
  dataDir: string,
  certPem: string,
  filePath: string,
): Promise<void> {
  const record: AdminCertRecord = {
    sha256: certSha256(new X509Certificate(certPem).raw),
    written: new Date().toISOString(),
    path: filePath,
  };
  await backend.put({ key: slotKey(dataDir), value: JSON.stringify(record) });
}

/**
 * Refuses (CERT_INVALID) an admin certificate that is not the current one of any daemon, saying
 * why and what to use instead. Other users' certificates are not affected.
 */
export async function requireCurrentAdminCert(backend: Backend, certDer: Buffer | undefined): Promise<void> {
  const records = (await backend.listPrefix(ADMIN_CERTS)).map((i) => JSON.parse(i.value) as AdminCertRecord);
  const presented = certDer ? certSha256(certDer) : '';
  if (records.some((r) => r.sha256 === presented)) return;
  const newest = records.sort((a, b) => b.written.localeCompare(a.written))[0];
  throw new GatehouseError(
    ErrorCode.CERT_INVALID,
    'this admin identity was replaced' +
      (newest ? ` when the daemon wrote a new one at ${newest.written} (${newest.path})` : '') +
      ' and no longer works; use the current admin-identity.json from the data dir',
    { reason: 'admin_identity_replaced' },
  );
}
