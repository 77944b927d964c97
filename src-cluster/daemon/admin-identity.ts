// The admin identity file `gatectl` uses on the auth host: a key and client certificate for
// the built-in admin (role "editor"), plus what is needed to trust and reach the proxy.
// Rewritten at every start so it never outlives a CA change; readable by the owner only. Writing
// a new one revokes the previous one (auth/admin-cert.ts).
import { join } from 'node:path';
import { writeFileAtomicSync } from '../../src-shared/atomic-write.ts';
import { generateKeyPairSync } from 'node:crypto';
import type { AuthServer } from '../auth/auth-server.ts';
import { recordAdminCert } from '../auth/admin-cert.ts';
import type { Backend } from '../storage/backend.ts';
import { ADMIN_IDENTITY_FILE } from './data-dir.ts';

export { ADMIN_IDENTITY_FILE };

export interface AdminIdentityFile {
  version: 1;
  cluster: string;
  proxy: string;
  user: string;
  key_pem: string;
  tls_cert_pem: string;
  tls_host_ca_pem: string[];
}

export async function writeAdminIdentity(
  dataDir: string,
  auth: AuthServer,
  proxyAddress: string,
  user: string,
  backend: Backend,
): Promise<string> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { issueClientCert } = await import('../auth/x509.ts');
  const now = Date.now();
  const tlsCert = await issueClientCert({
    ca: auth.cas.tlsUser.material,
    publicKey,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 30 * 24 * 3600_000),
    user,
    roles: ['editor'],
    logins: [],
  });
  const file: AdminIdentityFile = {
    version: 1,
    cluster: auth.settings.clusterName,
    proxy: proxyAddress,
    user,
    key_pem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    tls_cert_pem: tlsCert,
    tls_host_ca_pem: [auth.cas.tlsHost.material.certPem],
  };
  const path = join(dataDir, ADMIN_IDENTITY_FILE);
  // Recorded first: from here on only this certificate is an admin's (see auth/admin-cert.ts).
  await recordAdminCert(backend, dataDir, tlsCert, path);
  writeFileAtomicSync(path, JSON.stringify(file, null, 2));
  return path;
}
