// `gatehouse demo` (what `npm start` runs): an embedded cluster in a demo data dir with a demo
// user who may log in as the current OS user on the local node. One command, no manual steps.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../src-shared/atomic-write.ts';
import { ErrorCode, isGatehouseError } from '../../src-shared/errors.ts';
import { newUser } from '../resources/index.ts';
import { adminClient, loadAdminIdentity } from './admin-client.ts';
import type { RunningDaemon } from '../daemon/daemon.ts';
import type { Logger } from '../log/logger.ts';

export const DEMO_USER = 'demo';

export function demoDataDir(): string {
  return process.env.GATEHOUSE_DEMO_DIR ?? join(process.cwd(), '.data', 'demo');
}

/** Creates the demo user once; its password is kept in the demo dir so restarts print the same one. */
export async function seedDemo(
  daemon: RunningDaemon,
  dataDir: string,
  log: Logger,
): Promise<{ user: string; password: string }> {
  const passwordFile = join(dataDir, 'demo-password');
  const client = adminClient({ dataDir });
  const password = existsSync(passwordFile)
    ? readFileSync(passwordFile, 'utf8').trim()
    : randomBytes(9).toString('base64url');
  const login = userInfo().username;
  try {
    await client.createUser({
      userJson: JSON.stringify(newUser({ name: DEMO_USER, roles: ['access'], logins: [login] })),
      password,
    });
    writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
    log.info('created demo user', { user: DEMO_USER, login });
  } catch (e) {
    if (!(isGatehouseError(e) && e.code === ErrorCode.ALREADY_EXISTS)) throw e;
  }
  void daemon;
  return { user: DEMO_USER, password };
}

/** What `gatehouse demo --json-status FILE` writes once the cluster is up (for `npm start`). */
export interface DemoStatus {
  clusterName: string;
  proxy: string;
  /** SHA256:<hex> of the proxy's CA, so a launcher can pin it instead of trusting on first use. */
  caFingerprint: string;
  node: string;
  nodeAddress: string;
  user: string;
  password: string;
  /** The OS login the demo user may use on the node. */
  login: string;
  dataDir: string;
}

/** The TLS host CA the proxy chains to, from the admin identity the daemon just wrote. */
export function tlsHostCaFingerprint(adminIdentityPath: string | undefined): string {
  if (!adminIdentityPath) return '';
  const pem = loadAdminIdentity({ identity: adminIdentityPath }).file.tls_host_ca_pem[0];
  return pem ? 'SHA256:' + createHash('sha256').update(new X509Certificate(pem).raw).digest('hex') : '';
}

/** Whole-file replace, private: it carries the demo password. */
export function writeDemoStatus(file: string, status: DemoStatus): void {
  writeFileAtomicSync(file, JSON.stringify(status, null, 2) + '\n');
}
