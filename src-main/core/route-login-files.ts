// The files of stored route logins (`gate db login`, `gate app login`), one folder per kind under
// the profile directory: <name>.crt (the route certificate, PEM) and <name>.json (the record,
// written last: the commit point, as profile.json is for a login). One copy of the naming,
// reading, listing and removal rules, so db and app logins cannot drift apart on what makes a
// stored login usable: a well-formed record for that name, an unexpired certificate, and a
// certificate for the login key in use (a new `gate login` makes the old ones unusable).
import { createPublicKey, X509Certificate } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { readJsonIfExists, readTextIfExists, removePath, writeFileAtomic } from './files.ts';
import type { ClientKey } from './keys.ts';
import type { IssuedRouteCertificate } from './route-certs.ts';

/** Resource names are DNS-label-like; anything else is refused before it becomes a path. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/;

/** What every stored route login record holds besides its kind's own fields. */
export interface RouteLoginRecordBase {
  name: string;
  issuedAt: string;
  expiresAt: string;
}

export class RouteLoginFiles<R extends RouteLoginRecordBase> {
  constructor(
    private readonly schema: z.ZodType<R>,
    /** For the refusal of an unsafe name: "an app", "a database". */
    private readonly aKind: string,
  ) {}

  checkName(name: string): string {
    if (!SAFE_NAME.test(name)) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `"${name.slice(0, 100)}" is not ${this.aKind} name`);
    }
    return name;
  }

  certPath(dir: string, name: string): string {
    return join(dir, `${this.checkName(name)}.crt`);
  }

  /** Writes the certificate, then the record (the commit point). */
  save(dir: string, record: Omit<R, 'issuedAt' | 'expiresAt'>, cert: IssuedRouteCertificate): void {
    const name = this.checkName(record.name);
    const full = this.schema.parse({
      ...record,
      issuedAt: cert.issuedAt.toISOString(),
      expiresAt: cert.expiresAt.toISOString(),
    });
    writeFileAtomic(join(dir, `${name}.crt`), cert.certPem);
    writeFileAtomic(join(dir, `${name}.json`), JSON.stringify(full, null, 2) + '\n');
  }

  /** The stored login for `name`, when its certificate is unexpired and for this login's key. */
  load(
    dir: string,
    key: ClientKey,
    name: string,
    now: Date,
  ): (R & { certificate: IssuedRouteCertificate }) | undefined {
    this.checkName(name);
    const parsed = this.schema.safeParse(readJsonIfExists(join(dir, `${name}.json`)));
    const certPem = readTextIfExists(join(dir, `${name}.crt`));
    if (!parsed.success || !certPem || parsed.data.name !== name) return undefined;
    const expiresAt = new Date(parsed.data.expiresAt);
    if (!(expiresAt.getTime() > now.getTime()) || !certifiesKey(certPem, key)) return undefined;
    return { ...parsed.data, certificate: { certPem, issuedAt: new Date(parsed.data.issuedAt), expiresAt } };
  }

  /** Names of the stored logins (valid or not), sorted. */
  list(dir: string): string[] {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return [];
    }
    return names
      .filter((f) => f.endsWith('.json'))
      .map((f) => f.slice(0, -'.json'.length))
      .sort();
  }

  /** Removes one stored login, or all of them; returns the names removed. */
  remove(dir: string, name?: string): string[] {
    const names = name === undefined ? this.list(dir) : this.list(dir).filter((n) => n === this.checkName(name));
    for (const n of names) {
      removePath(join(dir, `${n}.json`));
      removePath(join(dir, `${n}.crt`));
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
