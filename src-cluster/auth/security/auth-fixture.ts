// Test-only: a real AuthServer over a real SQLite file, with the real audit log, access checker
// and preset roles, wired as the daemon wires them. reopen() closes the database and builds a
// fresh auth server over the same file, which is what a daemon restart does to auth's state.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import { createPresetRoles, identityStores } from '../identity-stores.ts';
import { AuditLog } from '../../audit/audit-log.ts';
import { AccessChecker } from '../../authz/access.ts';
import { createLogger } from '../../log/logger.ts';
import { newUser, type UserResource } from '../../resources/user.ts';
import { ResourceStore } from '../../storage/resources.ts';
import { SqliteBackend } from '../../storage/sqlite.ts';
import { publicKeyToWire, formatAuthorizedKey } from '../../../src-shared/sshcert/index.ts';
import { AuthServer, type LoginInput } from '../auth-server.ts';
import { loadOrCreateAuthorities } from '../authorities.ts';
import type { LockoutSettings } from '../login-lockout.ts';

export interface AuthFixture {
  dir: string;
  dbPath: string;
  backend: SqliteBackend;
  auth: AuthServer;
  audit: AuditLog;
  users: ResourceStore<UserResource['spec']>;
  /** Log lines the auth server wrote. */
  logs: string[];
  addUser(name: string, password?: string): Promise<void>;
  /** A login input for `user` with a fresh P-256 key; the address is unique unless given. */
  loginInput(user: string, password: string, clientAddress?: string): LoginInput;
  reopen(): Promise<AuthFixture>;
  close(): Promise<void>;
}

let addressSeq = 0;

export async function openAuthFixture(lockout?: LockoutSettings, dir?: string): Promise<AuthFixture> {
  const root = dir ?? mkdtempSync(join(tmpdir(), 'gatehouse-auth-security-'));
  const dbPath = join(root, 'gatehouse.db');
  const backend = await SqliteBackend.open({ path: dbPath });
  const logs: string[] = [];
  const log = createLogger({ level: 'debug', write: (l) => logs.push(l) });
  const { roles, users } = identityStores(backend);
  await createPresetRoles(roles);
  const audit = new AuditLog(backend);
  const access = new AccessChecker(users, roles, log, { audit });
  const cas = await loadOrCreateAuthorities(backend, 'security-test', log);
  const settings = { clusterName: 'security-test', secondFactor: 'off' as const, certTtlMs: 3600_000, lockout };
  let auth: AuthServer;
  try {
    auth = new AuthServer(backend, cas, settings, access, log, undefined, audit);
  } catch (e) {
    // Refused settings: release the database (its timers would keep the test process alive).
    await backend.close();
    if (!dir) rmSync(root, { recursive: true, force: true });
    throw e;
  }
  const fixture: AuthFixture = {
    dir: root,
    dbPath,
    backend,
    auth,
    audit,
    users,
    logs,
    addUser: async (name, password) => {
      await users.create(newUser({ name, roles: ['access'], logins: ['nobody'] }) as never);
      if (password !== undefined) await auth.setPassword(name, password);
    },
    loginInput: (user, password, clientAddress) => ({
      user,
      password,
      otp: '',
      publicKey: formatAuthorizedKey(
        publicKeyToWire(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey),
        'test',
      ),
      ttlSeconds: 600,
      clientAddress: clientAddress ?? `10.0.${Math.floor(addressSeq / 250) % 250}.${(addressSeq++ % 250) + 1}`,
    }),
    reopen: async () => {
      await backend.close();
      return openAuthFixture(lockout, root);
    },
    close: async () => {
      await backend.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return fixture;
}
