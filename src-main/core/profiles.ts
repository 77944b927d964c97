// Login profiles: what one successful login to one proxy as one user leaves on disk, plus
// which profile is "current". Layout under the Gatehouse home (default ~/.gatehouse):
//   current-profile.json                 {"proxy": "...", "user": "..."}
//   profiles/<proxy>/<user>/profile.json  identity, expiry, CA material (0600)
//   profiles/<proxy>/<user>/key           private key, SEC1 PEM (0600)
//   profiles/<proxy>/<user>/key-cert.pub  SSH user certificate (so `ssh -i key` works too)
//   profiles/<proxy>/<user>/tls.crt       X.509 client certificate, PEM
// profile.json is written last: it is the commit point of a login.
import { join } from 'node:path';
import { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { parseCertificateLine } from '../../src-shared/sshcert/index.ts';
import { writeFilesAtomic } from '../../src-shared/atomic-write.ts';
import { ensurePrivateDir, readJsonIfExists, readTextIfExists, removePath, writeFileAtomic } from './files.ts';
import { loadClientKey, type ClientKey } from './keys.ts';
import { parseProxyAddress } from './proxy-address.ts';
import { readdirSync } from 'node:fs';

const ProfileSchema = z.object({
  proxy: z.string().min(1),
  /** Every proxy given at login (proxy first): the client dials the next when one cannot be reached. */
  proxies: z.array(z.string().min(1)).max(8).optional(),
  user: z.string().min(1),
  cluster: z.string(),
  roles: z.array(z.string()),
  logins: z.array(z.string()),
  /** ISO time the certificates stop being valid. */
  validUntil: z.string(),
  loggedInAt: z.string(),
  sshHostCaKeys: z.array(z.string()),
  tlsHostCaCerts: z.array(z.string()),
  sshUserCaKeys: z.array(z.string()).default([]),
  tlsUserCaCerts: z.array(z.string()).default([]),
  /**
   * Set when the stored certificates carry device fields (device authentication after login):
   * read from the certificates, not from what the server said. osType is for display only.
   */
  device: z
    .object({
      deviceId: z.string(),
      assetTag: z.string(),
      credentialId: z.string(),
      osType: z.string().optional(),
      /** ISO time the cluster re-issued the certificates with the device fields. */
      issuedAt: z.string().optional(),
    })
    .optional(),
  /** The cluster's device trust mode at login (off|optional|required|required-for-humans). */
  deviceTrustMode: z.string().optional(),
  /** Whether the cluster said this user needs a trusted device (cluster mode and the user's roles). */
  deviceTrustRequired: z.boolean().optional(),
  /** Why device authentication after this login failed (the login stands): code, reason, next step. */
  deviceTrustIssue: z.object({ code: z.string(), message: z.string(), nextStep: z.string() }).optional(),
});
export type Profile = z.infer<typeof ProfileSchema>;

const CurrentSchema = z.object({ proxy: z.string(), user: z.string() });

/** What a login produced that must stay secret or verbatim. */
export interface ProfileCredentials {
  key: ClientKey;
  /** OpenSSH user certificate line. */
  sshCertificate: string;
  tlsCertificatePem: string;
}

export interface ProfilePaths {
  dir: string;
  profileJson: string;
  key: string;
  sshCert: string;
  tlsCert: string;
}

export function isExpired(profile: Pick<Profile, 'validUntil'>, now: Date): boolean {
  return timeLeftMs(profile, now) <= 0;
}

/** Milliseconds until the certificates expire; negative once expired. */
export function timeLeftMs(profile: Pick<Profile, 'validUntil'>, now: Date): number {
  const until = Date.parse(profile.validUntil);
  return Number.isNaN(until) ? -1 : until - now.getTime();
}

/** "11h 59m", "5m", "expired" — for status lines. */
export function formatTimeLeft(ms: number): string {
  if (ms <= 0) return 'expired';
  const minutes = Math.floor(ms / 60_000);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h >= 48) return `${Math.floor(h / 24)}d ${h % 24}h`;
  return h > 0 ? `${h}h ${m}m` : `${Math.max(m, 0)}m`;
}

function dirNameForProxy(address: string): string {
  return parseProxyAddress(address).address.replace(/[^A-Za-z0-9.-]/g, '_');
}

function dirNameForUser(user: string): string {
  if (user === '.' || user === '..' || user.length > 255) {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `"${user}" is not a valid user name`);
  }
  return encodeURIComponent(user);
}

export class ProfileStore {
  constructor(readonly home: string) {}

  paths(proxy: string, user: string): ProfilePaths {
    const dir = join(this.home, 'profiles', dirNameForProxy(proxy), dirNameForUser(user));
    return {
      dir,
      profileJson: join(dir, 'profile.json'),
      key: join(dir, 'key'),
      sshCert: join(dir, 'key-cert.pub'),
      tlsCert: join(dir, 'tls.crt'),
    };
  }

  /**
   * Stores a fresh login and makes it the current profile. `keyStored`: saveKey already wrote
   * this key (a trusted login writes it while its TPM quotes).
   */
  save(profile: Profile, creds: ProfileCredentials, opts: { keyStored?: boolean } = {}): ProfilePaths {
    const p = ProfileSchema.parse({ ...profile, proxy: parseProxyAddress(profile.proxy).address });
    const paths = this.paths(p.proxy, p.user);
    ensurePrivateDir(this.home);
    ensurePrivateDir(paths.dir);
    if (!opts.keyStored) writeFileAtomic(paths.key, creds.key.privateKeyPem);
    writeFileAtomic(paths.sshCert, creds.sshCertificate.trim() + '\n');
    writeFileAtomic(paths.tlsCert, creds.tlsCertificatePem);
    writeFileAtomic(paths.profileJson, JSON.stringify(p, null, 2) + '\n');
    this.setCurrent(p.proxy, p.user);
    return paths;
  }

  /**
   * save() with the files' fsyncs in parallel (writeFilesAtomic): a trusted login stores its
   * re-issued certificates on the login's critical path, where four fsyncs one after the other
   * cost 20-40 ms on this kind of disk under load. Renamed in save()'s order, so profile.json is
   * still the commit point and a crash leaves what save() could leave.
   */
  async saveBatched(
    profile: Profile,
    creds: ProfileCredentials,
    opts: { keyStored?: boolean } = {},
  ): Promise<ProfilePaths> {
    const p = ProfileSchema.parse({ ...profile, proxy: parseProxyAddress(profile.proxy).address });
    const paths = this.paths(p.proxy, p.user);
    ensurePrivateDir(this.home);
    ensurePrivateDir(paths.dir);
    const current = this.currentPointer(p.proxy, p.user);
    await writeFilesAtomic([
      ...(opts.keyStored ? [] : [{ path: paths.key, data: creds.key.privateKeyPem }]),
      { path: paths.sshCert, data: creds.sshCertificate.trim() + '\n' },
      { path: paths.tlsCert, data: creds.tlsCertificatePem },
      { path: paths.profileJson, data: JSON.stringify(p, null, 2) + '\n' },
      ...(current.unchanged ? [] : [{ path: current.path, data: current.text }]),
    ]);
    return paths;
  }

  /**
   * Writes a login's private key ahead of its certificates (save with keyStored then writes the
   * rest). Whatever the device authentication's outcome the login keeps this key: the stored
   * certificates are either the login's or their device-trusted re-issue for the same key.
   */
  async saveKey(profile: Pick<Profile, 'proxy' | 'user'>, key: ProfileCredentials['key']): Promise<void> {
    const paths = this.paths(parseProxyAddress(profile.proxy).address, profile.user);
    ensurePrivateDir(this.home);
    ensurePrivateDir(paths.dir);
    // Off the event loop (libuv's pool): the key is written while the TPM quotes, and a
    // synchronous fsync would hold up the quote's completion and the answer behind it.
    await writeFilesAtomic([{ path: paths.key, data: key.privateKeyPem }]);
  }

  /** Rewrites profile.json only (key and certificates unchanged), e.g. to record a device trust outcome. */
  update(profile: Profile): void {
    const p = ProfileSchema.parse({ ...profile, proxy: parseProxyAddress(profile.proxy).address });
    const paths = this.paths(p.proxy, p.user);
    if (readTextIfExists(paths.profileJson) === undefined) {
      throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, `no stored login for ${p.user} at ${p.proxy}`);
    }
    writeFileAtomic(paths.profileJson, JSON.stringify(p, null, 2) + '\n');
  }

  load(proxy: string, user: string): Profile | undefined {
    const paths = this.paths(proxy, user);
    const raw = readJsonIfExists(paths.profileJson);
    if (raw === undefined) return undefined;
    const r = ProfileSchema.safeParse(raw);
    if (!r.success) {
      throw new GatehouseError(
        ErrorCode.STORAGE,
        `${paths.profileJson} is damaged; run "gate logout" and log in again`,
      );
    }
    return r.data;
  }

  /** Key and certificates of a profile, checked to belong together. */
  loadCredentials(profile: Pick<Profile, 'proxy' | 'user'>): ProfileCredentials {
    const paths = this.paths(profile.proxy, profile.user);
    const keyPem = readTextIfExists(paths.key);
    const sshCertificate = readTextIfExists(paths.sshCert)?.trim();
    const tlsCertificatePem = readTextIfExists(paths.tlsCert);
    if (!keyPem || !sshCertificate || !tlsCertificatePem) {
      throw new GatehouseError(
        ErrorCode.NOT_LOGGED_IN,
        `the profile for ${profile.user} at ${profile.proxy} is incomplete; run "gate login" again`,
      );
    }
    const key = loadClientKey(keyPem);
    let certKey: Buffer;
    try {
      certKey = parseCertificateLine(sshCertificate).publicKey;
    } catch (e) {
      throw new GatehouseError(
        ErrorCode.CERT_INVALID,
        `the stored SSH certificate cannot be read (${(e as Error).message}); run "gate login" again`,
      );
    }
    // A login interrupted between writing the new key and the new certificates leaves a pair
    // that cannot work; say so instead of failing later with an opaque handshake error.
    if (!certKey.equals(key.publicKeyBlob)) {
      throw new GatehouseError(
        ErrorCode.CERT_INVALID,
        `the stored key and certificate of ${profile.user} at ${profile.proxy} do not match; run "gate login" again`,
      );
    }
    return { key, sshCertificate, tlsCertificatePem };
  }

  list(): Profile[] {
    const out: Profile[] = [];
    const root = join(this.home, 'profiles');
    for (const proxyDir of safeReaddir(root)) {
      for (const userDir of safeReaddir(join(root, proxyDir))) {
        const raw = readJsonIfExists(join(root, proxyDir, userDir, 'profile.json'));
        const r = ProfileSchema.safeParse(raw);
        if (r.success) out.push(r.data);
      }
    }
    return out.sort((a, b) => a.proxy.localeCompare(b.proxy) || a.user.localeCompare(b.user));
  }

  /** Makes a login the current one; a pointer already saying so is left alone (one fsync less per login). */
  setCurrent(proxy: string, user: string): void {
    ensurePrivateDir(this.home);
    const current = this.currentPointer(proxy, user);
    if (!current.unchanged) writeFileAtomic(current.path, current.text);
  }

  /** current-profile.json's path and text for this login, and whether the file says exactly that already. */
  private currentPointer(proxy: string, user: string): { path: string; text: string; unchanged: boolean } {
    const path = join(this.home, 'current-profile.json');
    const text = JSON.stringify({ proxy: parseProxyAddress(proxy).address, user }) + '\n';
    return { path, text, unchanged: readTextIfExists(path) === text };
  }

  /** The current profile, undefined when nobody is logged in (or it was removed). */
  current(): Profile | undefined {
    const raw = readJsonIfExists(join(this.home, 'current-profile.json'));
    const r = CurrentSchema.safeParse(raw);
    if (!r.success) return undefined;
    return this.load(r.data.proxy, r.data.user);
  }

  /** The current profile or NOT_LOGGED_IN with what to do about it. */
  requireCurrent(): Profile {
    const p = this.current();
    if (!p)
      throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, 'not logged in; run "gate login --proxy ADDRESS --user NAME"');
    return p;
  }

  /** Deletes a profile's files; clears the current pointer when it pointed there. */
  remove(proxy: string, user: string): boolean {
    const paths = this.paths(proxy, user);
    const existed = readTextIfExists(paths.profileJson) !== undefined || readTextIfExists(paths.key) !== undefined;
    removePath(paths.dir);
    const raw = readJsonIfExists(join(this.home, 'current-profile.json'));
    const cur = CurrentSchema.safeParse(raw);
    if (
      cur.success &&
      parseProxyAddress(cur.data.proxy).address === parseProxyAddress(proxy).address &&
      cur.data.user === user
    ) {
      removePath(join(this.home, 'current-profile.json'));
    }
    return existed;
  }
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
