// `gatehouse demo` (what `npm start` runs): an embedded cluster in a demo data dir with a demo
// user who may log in as the current OS user on the local node. One command, no manual steps.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../../src-shared/atomic-write.ts';
import { ErrorCode, isGatehouseError } from '../../src-shared/errors.ts';
import { newRole, newUser, type UserResource } from '../resources/index.ts';
import { DEMO_APP_LABELS } from './demo-app.ts';
import { adminClient, loadAdminIdentity } from './admin-client.ts';
import type { RunningDaemon } from '../daemon/daemon.ts';
import type { Logger } from '../log/logger.ts';

export const DEMO_USER = 'demo';
/** Lets the demo user reach the demo's sample app (labels demo=true), nothing else. */
export const DEMO_APPS_ROLE = 'demo-apps';
const DEMO_ROLES = ['access', DEMO_APPS_ROLE];

/** The demo apps role, replaced on every start (before the user that names it). */
async function putDemoAppsRole(client: ReturnType<typeof adminClient>): Promise<void> {
  const role = newRole(DEMO_APPS_ROLE, { allow: { app_labels: { ...DEMO_APP_LABELS } } }, "the demo's sample apps");
  await client.createResource({ resourceJson: JSON.stringify(role), upsert: true });
}

/** The demo user's membership in it. */
async function grantDemoApps(client: ReturnType<typeof adminClient>): Promise<void> {
  // A demo dir from before the sample app has the user without the role: add it once.
  const user = JSON.parse((await client.getResource({ kind: 'user', name: DEMO_USER })).resourceJson) as UserResource;
  if (user.spec.roles.includes(DEMO_APPS_ROLE)) return;
  user.spec.roles = [...user.spec.roles, DEMO_APPS_ROLE];
  await client.updateResource({ resourceJson: JSON.stringify(user) });
}

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
  await putDemoAppsRole(client);
  try {
    await client.createUser({
      userJson: JSON.stringify(newUser({ name: DEMO_USER, roles: DEMO_ROLES, logins: [login] })),
      password,
    });
    writeFileSync(passwordFile, password + '\n', { mode: 0o600 });
    log.info('created demo user', { user: DEMO_USER, login });
  } catch (e) {
    if (!(isGatehouseError(e) && e.code === ErrorCode.ALREADY_EXISTS)) throw e;
  }
  await grantDemoApps(client);
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

/** The TLS host CA (PEM) the proxy chains to, from the admin identity the daemon just wrote. */
export function tlsHostCaPem(adminIdentityPath: string | undefined): string {
  if (!adminIdentityPath) return '';
  return loadAdminIdentity({ identity: adminIdentityPath }).file.tls_host_ca_pem[0] ?? '';
}

/** SHA256:<hex> of that CA, so a launcher can pin it. */
export function tlsHostCaFingerprint(adminIdentityPath: string | undefined): string {
  const pem = tlsHostCaPem(adminIdentityPath);
  return pem ? 'SHA256:' + createHash('sha256').update(new X509Certificate(pem).raw).digest('hex') : '';
}

/** Whole-file replace, private: it carries the demo password. */
export function writeDemoStatus(file: string, status: DemoStatus): void {
  writeFileAtomicSync(file, JSON.stringify(status, null, 2) + '\n');
}
