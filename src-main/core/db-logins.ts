// `gate db login` results: a route certificate for one database, kept beside the login it was
// issued for, so later `gate proxy db` / `gate db connect` runs reuse it (and its pinned db user
// and db name) instead of asking the cluster again. Layout under the profile directory:
//   db/<name>.crt   the route certificate, PEM (inspect it with `openssl x509 -text`)
//   db/<name>.json  {name, protocol, dbUser?, dbName?, issuedAt, expiresAt} — written last: the
//                   commit point, as profile.json is for a login
// A certificate is only ever used with the login key it was issued for: a new `gate login` (new
// key) makes the stored one unusable, which load() reports as absent (route-login-files.ts).
import { join } from 'node:path';
import { z } from 'zod';
import type { ClientKey } from './keys.ts';
import type { Profile, ProfileStore } from './profiles.ts';
import type { IssuedRouteCertificate, RouteCertificateRequest } from './route-certs.ts';
import { RouteLoginFiles } from './route-login-files.ts';

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
  readonly #files = new RouteLoginFiles<DbLoginRecord>(DbLoginSchema, 'a database');

  constructor(private readonly profiles: ProfileStore) {}

  private dir(profile: Pick<Profile, 'proxy' | 'user'>): string {
    return join(this.profiles.paths(profile.proxy, profile.user).dir, 'db');
  }

  save(profile: Profile, record: Omit<DbLoginRecord, 'issuedAt' | 'expiresAt'>, cert: IssuedRouteCertificate): void {
    this.#files.save(this.dir(profile), record, cert);
  }

  /** The stored db login for `name`, when its certificate is unexpired and for this login's key. */
  load(profile: Profile, key: ClientKey, name: string, now: Date): StoredDbLogin | undefined {
    return this.#files.load(this.dir(profile), key, name, now);
  }

  /** Names of the stored db logins (valid or not), sorted. */
  list(profile: Pick<Profile, 'proxy' | 'user'>): string[] {
    return this.#files.list(this.dir(profile));
  }

  /** Removes one stored db login, or all of them; returns the names removed. */
  remove(profile: Pick<Profile, 'proxy' | 'user'>, name?: string): string[] {
    return this.#files.remove(this.dir(profile), name);
  }
}
