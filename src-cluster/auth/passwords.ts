// Password hashing with scrypt (a slow, memory-hard KDF), the password policy, and one-time
// password-set tokens.
import { randomBytes, scrypt as scryptCb, timingSafeEqual, createHash, type ScryptOptions } from 'node:crypto';
import { dictionary } from '@zxcvbn-ts/language-common';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';

const scrypt = (pw: string, salt: Buffer, len: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) =>
    scryptCb(pw, salt, len, opts, (err, key) => (err ? reject(err) : resolve(key))),
  );

// N=2^15, r=8 costs ~32 MiB and tens of milliseconds per guess: cheap for a login, dear for a brute force.
const PARAMS = { N: 1 << 15, r: 8, p: 1 };
const KEY_LEN = 32;
const MAX_MEM = 64 * 1024 * 1024;

/** NIST SP 800-63B asks for at least 8; 12 keeps short dictionary-word passwords out. */
export const MIN_PASSWORD_LENGTH = 12;
/** Longer passwords add nothing and only make every set and login carry the bytes around. */
export const MAX_PASSWORD_LENGTH = 1024;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, KEY_LEN, { ...PARAMS, maxmem: MAX_MEM });
  return ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [alg, n, r, p, salt, key] = encoded.split('$');
  if (alg !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEM,
  });
  return timingSafeEqual(actual, expected);
}

let dummyHash: Promise<string> | undefined;

/**
 * A hash to compare against when the user does not exist or has no password yet, so those
 * answer as slowly as a wrong password. Made by hashPassword itself (once, lazily), so it always
 * has the real hash's format and cost: a hand-written constant once lacked a field, made
 * verifyPassword return at once, and let login timing tell existing users from unknown ones.
 */
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(32).toString('hex'));
  return dummyHash;
}

let commonPasswords: Set<string> | undefined;

/** The ~49k most common leaked passwords (@zxcvbn-ts/language-common), lower-cased, built once. */
function isCommonPassword(password: string): boolean {
  commonPasswords ??= new Set(dictionary['passwords-common'].map((p) => p.toLowerCase()));
  return commonPasswords.has(password.toLowerCase());
}

/** Throws BAD_REQUEST saying why when a new password breaks the policy. */
export function checkPasswordPolicy(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `password too short: use at least ${MIN_PASSWORD_LENGTH} characters (this one has ${length})`,
      { reason: 'password_too_short', min_length: MIN_PASSWORD_LENGTH },
    );
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `password too long: use at most ${MAX_PASSWORD_LENGTH} characters (this one has ${length})`,
      { reason: 'password_too_long', max_length: MAX_PASSWORD_LENGTH },
    );
  }
  if (isCommonPassword(password)) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      'password too common: it is on a list of the most used leaked passwords, which attackers try first; choose another',
      { reason: 'password_common' },
    );
  }
}

/** 192 random bits as hex: base64url could start with "-" and read as an option on a command line. */
export function newToken(): string {
  return randomBytes(24).toString('hex');
}

/** Tokens are stored only as their hash: a copy of the database does not hand out passwords. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
