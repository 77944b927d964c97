// `gate db login` results: a route certificate for one database, kept beside the login it was
// issued for, so later `gate proxy db` / `gate db connect` runs reuse it (and its pinned db user
// and db name) instead of asking the cluster again. Layout under the profile directory:
//   db/<name>.crt   the route certificate, PEM (inspect it with `openssl x509 -text`)
//   db/<name>.json  {name, protocol, dbUser?, dbName?, issuedAt, expiresAt} — written last: the
//                   commit point, as profile.json is for a login
// A certificate is only ever used with the login key it was issued for: a new `gate login` (new
// key) makes the stored one unusable, which load() reports as absent.
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { readJsonIfExists, readTextIfExists, removePath, writeFileAtomic } from './files.ts';
import type { ClientKey } from './keys.ts';
import type { Profile, ProfileStore } from './profiles.ts';
import type { IssuedRouteCertificate, RouteCertificateRequest } from './route-certs.ts';

const DbLoginSchema = z.object({
  name: z.string().min(1),
  protocol: z.enum(['postgres', 'mysql']),
  dbUser: z.string().optional(),
  dbName: z.string().optional(),
  issuedAt: z.string(),
  expiresAt: z.string(),
});
export type DbLoginRecord = z.infer<typeof DbLoginSchema>;

export interface StoredDbLogin extends DbLoginRecord {
  certificate: IssuedRouteCertificate;
}

/** Database resource names are DNS-label-like; anything else is refused before it becomes a path. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

function checkName(name: string): string {
  if (!SAFE_NAME.test(name)) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `"${name.slice(0, 100)}" is not a database name`);
  }
  return name;
}

/** The route certificate request a stored db login stands for. */
export function dbLoginRequest(record: Pick<DbLoginRecord, 'name' | 'dbUser' | 'dbName'>): RouteCertificateRequest {
  return {
    kind: 'db',
    name: record.name,
    ...(record.dbUser !== undefined ? { dbUser: record.dbUser } : {}),
    ...(record.dbName !== undefined ? { dbName: record.dbName } : {}),
  };
}

export class DbLogins {
  constructor(private readonly profiles: ProfileStore) {}

  private dir(profile: Pick<Profile, 'proxy' | 'user'>): string {
    return join(this.profiles.paths(profile.proxy, profile.user).dir, 'db');
  }

  save(profile: Profile, record: Omit<DbLoginRecord, 'issuedAt' | 'expiresAt'>, cert: IssuedRouteCertificate): void {
    const dir = this.dir(profile);
    const name = checkName(record.name);
    const full = DbLoginSchema.parse({
      ...record,
      issuedAt: cert.issuedAt.toISOString(),
      expiresAt: cert.expiresAt.toISOString(),
    });
    writeFileAtomic(join(dir, `${name}.crt`), cert.certPem);
    writeFileAtomic(join(dir, `${name}.json`), JSON.stringify(full, null, 2) + '\n');
  }

  /** The stored db login for `name`, when its certificate is unexpired and for this login's key. */
  load(profile: Profile, key: ClientKey, name: string, now: Date): StoredDbLogin | undefined {
    const dir = this.dir(profile);
    checkName(name);
    const parsed = DbLoginSchema.safeParse(readJsonIfExists(join(dir, `${name}.json`)));
    const certPem = readTextIfExists(join(dir, `${name}.crt`));
    if (!parsed.success || !certPem || parsed.data.name !== name) return undefined;
    const expiresAt = new Date(parsed.data.expiresAt);
    if (!(expiresAt.getTime() > now.getTime()) || !certifiesKey(certPem, key)) return undefined;
    return { ...parsed.data, certificate: { certPem, issuedAt: new Date(parsed.data.issuedAt), expiresAt } };
  }

  /** Names of the stored db logins (valid or not), sorted. */
  list(profile: Pick<Profile, 'proxy' | 'user'>): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir(profile));
    } catch {
      return [];
    }
    return names
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  }

  /** Removes one stored db login, or all of them; returns the names removed. */
  remove(profile: Pick<Profile, 'proxy' | 'user'>, name?: string): string[] {
    const names = name === undefined ? this.list(profile) : this.list(profile).filter((n) => n === checkName(name));
    for (const n of names) {
      removePath(join(this.dir(profile), `${n}.json`));
      removePath(join(this.dir(profile), `${n}.crt`));
    }
    return names;
  }
}

/** Whether the certificate is for `key` (a readable cert for another key, or garbage, is not). */
export function certifiesKey(certPem: string, key: ClientKey): boolean {
  try {
    return new X509Certificate(certPem).publicKey.equals(createPublicKey(key.privateKey));
  } catch {
    return false;
  }
}
