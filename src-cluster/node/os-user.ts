// Which OS account a session runs as, and whether this node may start it at all.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { userInfo } from 'node:os';

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** Parses one passwd(5) line: name:password:uid:gid:gecos:home:shell. */
export function parsePasswdLine(line: string): OsUser | undefined {
  const f = line.trim().split(':');
  if (f.length !== 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid) || f[2] === '' || f[3] === '') return undefined;
  return { name: f[0]!, uid, gid, home: f[5]!, shell: f[6]! };
}

// A conservative login-name shape: it keeps option-looking or numeric names away from getent
// (`getent passwd 0` would answer with root).
const LOGIN_RE = /^[a-z_][a-z0-9_.-]{0,31}\$?$/i;

/** Looks a login up through NSS (`getent passwd`), so LDAP/SSSD users are found too. */
export async function lookupOsUser(login: string): Promise<OsUser | undefined> {
  if (!LOGIN_RE.test(login)) return undefined;
  const out = await new Promise<string | undefined>((resolve, reject) => {
    execFile('getent', ['passwd', login], { timeout: 10_000 }, (err, stdout) => {
      if (!err) return resolve(stdout);
      // getent exits 2 when the key is not found.
      if ((err as { code?: unknown }).code === 2) return resolve(undefined);
      reject(new Error(`getent passwd ${login} failed: ${err.message}`));
    });
  });
  if (out === undefined) return undefined;
  const user = parsePasswdLine(out.split('\n')[0] ?? '');
  return user && user.name === login ? user : undefined;
}

/** A group's id through NSS, e.g. "tty" for terminal ownership; undefined if there is none. */
export async function lookupGroupId(name: string): Promise<number | undefined> {
  if (!LOGIN_RE.test(name)) return undefined;
  return new Promise((resolve) => {
    execFile('getent', ['group', name], { timeout: 10_000 }, (err, stdout) => {
      const gid = err ? NaN : Number(stdout.split(':')[2]);
      resolve(Number.isInteger(gid) && stdout.split(':')[0] === name ? gid : undefined);
    });
  });
}

export type LoginResolution = { ok: true; user: OsUser; switchUser: boolean } | { ok: false; reason: string };

export interface ProcessIdentity {
  uid: number;
  name: string;
}

export function currentProcessIdentity(): ProcessIdentity {
  const info = userInfo();
  return { uid: info.uid, name: info.username };
}

/**
 * As root the node starts sessions as any existing login; otherwise only as its own user,
 * because an unprivileged process cannot switch users.
 */
export async function resolveLogin(
  login: string,
  nodeName: string,
  self: ProcessIdentity,
  lookup: (login: string) => Promise<OsUser | undefined> = lookupOsUser,
): Promise<LoginResolution> {
  const user = await lookup(login);
  if (!user) return { ok: false, reason: `login "${login}" does not exist on node "${nodeName}"` };
  if (self.uid === 0) return { ok: true, user, switchUser: user.uid !== 0 };
  if (user.uid === self.uid) return { ok: true, user, switchUser: false };
  return {
    ok: false,
    reason: `node "${nodeName}" runs as user "${self.name}" and cannot start sessions as "${login}"`,
  };
}

/** The user's home if it is a directory, else "/" (as sshd does after "Could not chdir"). */
export async function workingDirectory(user: OsUser): Promise<string> {
  try {
    if ((await stat(user.home)).isDirectory()) return user.home;
  } catch {
    // fall through
  }
  return '/';
}

export function defaultPath(uid: number): string {
  return uid === 0
    ? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    : '/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games';
}
