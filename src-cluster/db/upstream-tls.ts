// How the db service logs in to a database: mutual TLS with a client certificate from the
// cluster's database CA whose CN is the db user (ClusterService.SignDatabaseClientCertificate),
// the server certificate checked against the database's own CA (spec.tls.ca_cert) or else the
// database CA, under spec.tls.server_name or the uri's host. One key per db service; each db
// user's certificate is reused until two thirds of its life, so a connection normally costs no
// call to auth, and a renewal that fails while the old one is still valid keeps the old one.
import * as tls from 'node:tls';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { TlsContextCache } from '../../src-shared/tls-contexts.ts';
import type { DbUpstream } from './engine.ts';
import { TLS_CLIENT_SETTINGS } from '../../src-shared/tls-settings.ts';

/** What the db service asks auth for (ClusterClient's method, narrowed for tests). */
export interface DbClientCertSigner {
  signDatabaseClientCertificate(
    req: { tlsPublicKeyPem: string; dbUser: string },
    options: { timeoutMs: number },
  ): Promise<{ tlsCertPem: string; dbCaPems: string[]; expiresUnix: bigint }>;
}

/** Db users whose certificates are kept; past it the oldest is forgotten (re-signed on next use). */
export const MAX_CACHED_DB_USERS = 1024;
const SIGN_TIMEOUT_MS = 10_000;

interface CachedCert {
  certPem: string;
  caPems: string[];
  renewAtMs: number;
  expiresMs: number;
}

/** The database a session goes to, as far as the TLS options need it. */
export interface UpstreamTarget {
  name: string;
  uri: string;
  tls?: { ca_cert?: string; server_name?: string };
}

function hostAndPort(uri: string): { host: string; port: number } {
  const i = uri.lastIndexOf(':');
  return { host: uri.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(uri.slice(i + 1)) };
}

const isIp = (host: string) => /^[\d.]+$|:/.test(host);

export class DbClientCerts {
  readonly #key: KeyObject;
  readonly #keyPem: string;
  readonly #publicKeyPem: string;
  readonly #cache = new Map<string, CachedCert>();
  readonly #pending = new Map<string, Promise<CachedCert>>();
  /** One SecureContext per (db user certificate, database CA) instead of one per session. */
  readonly #contexts = new TlsContextCache(64);

  constructor(
    private readonly signer: () => DbClientCertSigner,
    private readonly now: () => number = Date.now,
  ) {
    this.#key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    this.#keyPem = this.#key.export({ format: 'pem', type: 'pkcs8' }) as string;
    this.#publicKeyPem = createPublicKey(this.#key).export({ format: 'pem', type: 'spki' }) as string;
  }

  /** The TLS options to reach `db` as `dbUser`; throws DB_UNREACHABLE naming the database when auth cannot sign. */
  async upstreamFor(db: UpstreamTarget, dbUser: string, timeoutMs: number): Promise<DbUpstream> {
    const cert = await this.#certFor(db.name, dbUser);
    const { host, port } = hostAndPort(db.uri);
    const serverName = db.tls?.server_name ?? host;
    const caPems = db.tls?.ca_cert ? [db.tls.ca_cert] : cert.caPems;
    const secureContext = this.#contextFor(caPems, cert.certPem);
    return {
      host,
      port,
      timeoutMs,
      tls: {
        host,
        port,
        ca: caPems,
        cert: cert.certPem,
        key: this.#keyPem,
        // SNI takes host names only; an IP address is still checked against the cert's IP names.
        ...(isIp(serverName) ? {} : { servername: serverName }),
        checkServerIdentity: checkServerNameAs(serverName),
        rejectUnauthorized: true,
        ...TLS_CLIENT_SETTINGS,
        // ca/cert/key above stay for readers and tests; when the context exists Node uses it instead.
        ...(secureContext ? { secureContext } : {}),
      },
    };
  }

  /**
   * The reused context for these PEMs; undefined when they do not load (a broken spec.tls.ca_cert),
   * so the connection builds its own and fails there with the database's name, as before.
   */
  #contextFor(caPems: string[], certPem: string): tls.SecureContext | undefined {
    try {
      return this.#contexts.get({ ca: caPems, cert: certPem, key: this.#keyPem });
    } catch {
      return undefined;
    }
  }

  async #certFor(database: string, dbUser: string): Promise<CachedCert> {
    const cached = this.#cache.get(dbUser);
    const now = this.now();
    if (cached && now < cached.renewAtMs) return cached;
    let pending = this.#pending.get(dbUser);
    if (!pending) {
      pending = this.#sign(dbUser).finally(() => this.#pending.delete(dbUser));
      this.#pending.set(dbUser, pending);
    }
    try {
      return await pending;
    } catch (e) {
      // Auth away at renewal: a certificate still valid for a minute more does the job.
      if (cached && now < cached.expiresMs - 60_000) return cached;
      throw new GatehouseError(
        ErrorCode.DB_UNREACHABLE,
        `database "${database}": cannot get a client certificate for db user "${dbUser}" from auth: ${(e as Error).message}`,
      );
    }
  }

  async #sign(dbUser: string): Promise<CachedCert> {
    const issuedMs = this.now();
    const r = await this.signer().signDatabaseClientCertificate(
      { tlsPublicKeyPem: this.#publicKeyPem, dbUser },
      { timeoutMs: SIGN_TIMEOUT_MS },
    );
    const expiresMs = Number(r.expiresUnix) * 1000;
    const cert: CachedCert = {
      certPem: r.tlsCertPem,
      caPems: [...r.dbCaPems],
      expiresMs,
      renewAtMs: issuedMs + Math.floor(((expiresMs - issuedMs) * 2) / 3),
    };
    this.#cache.delete(dbUser);
    if (this.#cache.size >= MAX_CACHED_DB_USERS) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(dbUser, cert);
    return cert;
  }
}

/** Node's check, but against `name` (spec.tls.server_name) rather than the address dialled. */
function checkServerNameAs(name: string): (host: string, cert: tls.PeerCertificate) => Error | undefined {
  return (_host, cert) => tls.checkServerIdentity(name, cert);
}
