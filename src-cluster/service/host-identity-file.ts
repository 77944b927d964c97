// A joined service's host identity on disk: its private keys, the certificates auth signed for
// them and the CAs it trusts. Written once at join (and at each renewal) with an atomic, fsynced
// write, mode 0600, so a crash never leaves half a key and a restart needs no join token.
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

export const JOINABLE_ROLES = ['proxy', 'node', 'db', 'app'] as const;
export type JoinableRole = (typeof JOINABLE_ROLES)[number];

const HostIdentitySchema = z.strictObject({
  version: z.literal(1),
  cluster_name: z.string().min(1),
  host_id: z.string().min(1),
  role: z.enum(JOINABLE_ROLES),
  name: z.string().min(1),
  /** Where auth's API was reached at join; the config's auth_server wins when set. */
  auth_server: z.string().min(1),
  tls_key_pem: z.string().min(1),
  tls_cert_pem: z.string().min(1),
  /** OpenSSH private key of the node's host key; empty for roles without SSH. */
  ssh_key: z.string(),
  ssh_host_cert: z.string(),
  issued_unix: z.number().int(),
  expires_unix: z.number().int(),
  tls_host_ca_pems: z.array(z.string()).min(1),
  tls_user_ca_pems: z.array(z.string()),
  ssh_user_ca_keys: z.array(z.string()),
});

export type HostIdentity = z.infer<typeof HostIdentitySchema>;

/** `<data_dir>/services/<role>-identity.json`: one per role, as a process may run both. */
export function hostIdentityPath(dataDir: string, role: JoinableRole): string {
  return join(dataDir, 'services', `${role}-identity.json`);
}

/** The stored identity, undefined when the service never joined; a damaged file is an error, not a re-join. */
export function loadHostIdentity(path: string): HostIdentity | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new GatehouseError(ErrorCode.CONFIG, `cannot read host identity ${path}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatehouseError(ErrorCode.CONFIG, `host identity ${path} is not valid JSON; remove it and join again`);
  }
  const r = HostIdentitySchema.safeParse(parsed);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new GatehouseError(
      ErrorCode.CONFIG,
      `host identity ${path}: ${issue.path.join('.') || '(top level)'}: ${issue.message}; remove it and join again`,
    );
  }
  return r.data;
}

export async function saveHostIdentity(path: string, identity: HostIdentity): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, JSON.stringify(HostIdentitySchema.parse(identity), null, 2) + '\n', {
    mode: 0o600,
    fsync: true,
  });
}

/** When to renew: two thirds into the identity's life, so a renewal has a third of it to succeed. */
export function renewAtMs(identity: Pick<HostIdentity, 'issued_unix' | 'expires_unix'>): number {
  const lifeMs = (identity.expires_unix - identity.issued_unix) * 1000;
  return identity.issued_unix * 1000 + Math.floor((lifeMs * 2) / 3);
}
