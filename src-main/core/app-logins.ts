// `gate app login` results: a route certificate for one app, kept beside the login key it was
// issued for (as db logins are), so `gate app config` can print curl-ready paths and later
// `gate proxy app` runs reuse it instead of asking the cluster again. Layout under the profile
// directory (profiles/<proxy>/<user>/, where the login's `key` and `tls.crt` live):
//   app/<name>.crt     the route certificate, PEM (inspect it with `openssl x509 -text`)
//   app/<name>.json    {name, kind, uri, publicAddr?, issuedAt, expiresAt} — written last: the
//                      commit point, as profile.json is for a login
//   app/proxy-ca.pem   the pinned proxy CA, so `--cacert` has a file to name
// A certificate is only ever used with the login key it was issued for: a new `gate login` (new
// key) makes the stored one unusable, which load() reports as absent.
import { join } from 'node:path';
import { z } from 'zod';
import { removePath, writeFileAtomic } from './files.ts';
import type { ClientKey } from './keys.ts';
import type { Profile, ProfileStore } from './profiles.ts';
import type { IssuedRouteCertificate, RouteCertificateRequest } from './route-certs.ts';
import { RouteLoginFiles } from './route-login-files.ts';

const AppLoginSchema = z.object({
  name: z.string().min(1),
  kind: z.enum(['http', 'tcp']),
  uri: z.string(),
  publicAddr: z.string().optional(),
  issuedAt: z.string(),
  expiresAt: z.string(),
});
export type AppLoginRecord = z.infer<typeof AppLoginSchema>;

export interface StoredAppLogin extends AppLoginRecord {
  certificate: IssuedRouteCertificate;
}

/** Where a stored app login's files are, for `gate app config` (curl's --cert/--key/--cacert). */
export interface AppLoginPaths {
  cert: string;
  key: string;
  cacert: string;
}

const PROXY_CA_FILE = 'proxy-ca.pem';

/** The route certificate request an app login stands for. */
export function appLoginRequest(name: string): RouteCertificateRequest {
  return { kind: 'app', name };
}

export class AppLogins {
  readonly #files = new RouteLoginFiles<AppLoginRecord>(AppLoginSchema, 'an app');

  constructor(private readonly profiles: ProfileStore) {}

  private dir(profile: Pick<Profile, 'proxy' | 'user'>): string {
    return join(this.profiles.paths(profile.proxy, profile.user).dir, 'app');
  }

  paths(profile: Pick<Profile, 'proxy' | 'user'>, name: string): AppLoginPaths {
    const dir = this.dir(profile);
    return {
      cert: this.#files.certPath(dir, name),
      key: this.profiles.paths(profile.proxy, profile.user).key,
      cacert: join(dir, PROXY_CA_FILE),
    };
  }

  /** Writes the proxy CA copy first, so the record (the commit point) never names a missing --cacert. */
  save(
    profile: Profile,
    record: Omit<AppLoginRecord, 'issuedAt' | 'expiresAt'>,
    cert: IssuedRouteCertificate,
    proxyCaPem: string,
  ): AppLoginPaths {
    const paths = this.paths(profile, record.name);
    writeFileAtomic(paths.cacert, proxyCaPem);
    this.#files.save(this.dir(profile), record, cert);
    return paths;
  }

  /** The stored app login for `name`, when its certificate is unexpired and for this login's key. */
  load(profile: Profile, key: ClientKey, name: string, now: Date): StoredAppLogin | undefined {
    return this.#files.load(this.dir(profile), key, name, now);
  }

  /** Names of the stored app logins (valid or not), sorted. */
  list(profile: Pick<Profile, 'proxy' | 'user'>): string[] {
    return this.#files.list(this.dir(profile));
  }

  /** Removes one stored app login, or all of them (and the CA copy with the last); returns the names removed. */
  remove(profile: Pick<Profile, 'proxy' | 'user'>, name?: string): string[] {
    const names = this.#files.remove(this.dir(profile), name);
    if (this.list(profile).length === 0) removePath(join(this.dir(profile), PROXY_CA_FILE));
    return names;
  }
}
