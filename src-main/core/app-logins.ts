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
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { certifiesKey } from './db-logins.ts';
import { readJsonIfExists, readTextIfExists, removePath, writeFileAtomic } from './files.ts';
import type { ClientKey } from './keys.ts';
import type { Profile, ProfileStore } from './profiles.ts';
import type { IssuedRouteCertificate, RouteCertificateRequest } from './route-certs.ts';

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

/** App resource names are DNS-label-like; anything else is refused before it becomes a path. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;
const PROXY_CA_FILE = 'proxy-ca.pem';

function checkName(name: string): string {
  if (!SAFE_NAME.test(name))
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `"${name.slice(0, 100)}" is not an app name`);
  return name;
}

/** The route certificate request an app login stands for. */
export function appLoginRequest(name: string): RouteCertificateRequest {
  return { kind: 'app', name };
}

export class AppLogins {
  constructor(private readonly profiles: ProfileStore) {}

  private dir(profile: Pick<Profile, 'proxy' | 'user'>): string {
    return join(this.profiles.paths(profile.proxy, profile.user).dir, 'app');
  }

  paths(profile: Pick<Profile, 'proxy' | 'user'>, name: string): AppLoginPaths {
    const dir = this.dir(profile);
    return {
      cert: join(dir, `${checkName(name)}.crt`),
      key: this.profiles.paths(profile.proxy, profile.user).key,
      cacert: join(dir, PROXY_CA_FILE),
    };
  }

  save(
    profile: Profile,
    record: Omit<AppLoginRecord, 'issuedAt' | 'expiresAt'>,
    cert: IssuedRouteCertificate,
    proxyCaPem: string,
  ): AppLoginPaths {
    const paths = this.paths(profile, record.name);
    const full = AppLoginSchema.parse({
      ...record,
      issuedAt: cert.issuedAt.toISOString(),
      expiresAt: cert.expiresAt.toISOString(),
    });
    writeFileAtomic(paths.cacert, proxyCaPem);
    writeFileAtomic(paths.cert, cert.certPem);
    writeFileAtomic(join(this.dir(profile), `${record.name}.json`), JSON.stringify(full, null, 2) + '\n');
    return paths;
  }

  /** The stored app login for `name`, when its certificate is unexpired and for this login's key. */
  load(profile: Profile, key: ClientKey, name: string, now: Date): StoredAppLogin | undefined {
    const paths = this.paths(profile, name);
    const parsed = AppLoginSchema.safeParse(readJsonIfExists(join(this.dir(profile), `${name}.json`)));
    const certPem = readTextIfExists(paths.cert);
    if (!parsed.success || !certPem || parsed.data.name !== name) return undefined;
    const expiresAt = new Date(parsed.data.expiresAt);
    if (!(expiresAt.getTime() > now.getTime()) || !certifiesKey(certPem, key)) return undefined;
    return { ...parsed.data, certificate: { certPem, issuedAt: new Date(parsed.data.issuedAt), expiresAt } };
  }

  /** Names of the stored app logins (valid or not), sorted. */
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

  /** Removes one stored app login, or all of them (and the CA copy with the last); returns the names removed. */
  remove(profile: Pick<Profile, 'proxy' | 'user'>, name?: string): string[] {
    const names = name === undefined ? this.list(profile) : this.list(profile).filter((n) => n === checkName(name));
    for (const n of names) {
      removePath(join(this.dir(profile), `${n}.json`));
      removePath(join(this.dir(profile), `${n}.crt`));
    }
    if (this.list(profile).length === 0) removePath(join(this.dir(profile), PROXY_CA_FILE));
    return names;
  }
}
