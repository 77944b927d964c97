// `gatehouse demo` (what `npm start` runs): an embedded cluster in a demo data dir with a demo
// user who may log in as the current OS user on the local node. One command, no manual steps.
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { ErrorCode, isGatehouseError } from '../../src-shared/errors.ts';
import { newUser } from '../resources/index.ts';
import { adminClient } from './admin-client.ts';
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
