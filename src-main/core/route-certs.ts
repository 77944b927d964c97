// Route certificates: short-lived X.509 client certificates the cluster issues for the login's
// key that name one route (a database, and the db user / db name when pinned; an app). The proxy
// refuses a db or app route whose certificate names another route, so each such gateway
// connection needs one.
// Issuing costs a round trip to the cluster; one certificate serves every connection of its
// route until 2/3 of its life has passed (renewed early so a long-lived gateway never presents
// an expiring one) or the login changes (a new login is a new key and new identity).
import { createHash } from 'node:crypto';
import type { Profile } from './profiles.ts';
import type { Clock } from './types.ts';

export interface RouteCertificateRequest {
  kind: 'db' | 'app';
  /** The resource name (database, app). */
  name: string;
  /** Pinned db user / db name; absent: the client picks at connect time, within the roles. */
  dbUser?: string;
  dbName?: string;
  /** Requested lifetime; absent: the cluster's default (1 h), never past the login. */
  ttlSeconds?: number;
}

export interface IssuedRouteCertificate {
  certPem: string;
  expiresAt: Date;
  /** When this client asked for it: the start of the lifetime the 2/3 renewal rule measures. */
  issuedAt: Date;
}

/** Calls the cluster (AuthService.IssueRouteCertificate) for the profile's login key. */
export type RouteCertificateIssuer = (
  profile: Profile,
  request: RouteCertificateRequest,
) => Promise<{ certPem: string; expiresAt: Date }>;

/** Certificates kept at once; an app with many gateways across clusters stays far below. */
export const MAX_CACHED_ROUTE_CERTIFICATES = 256;
/** Share of a certificate's life after which the next connection gets a fresh one. */
export const ROUTE_CERT_RENEW_FRACTION = 2 / 3;

/** When `cert` stops being fresh (2/3 of its life): the next request then gets a new one. */
export function renewalTime(cert: IssuedRouteCertificate): Date {
  const life = cert.expiresAt.getTime() - cert.issuedAt.getTime();
  return new Date(cert.issuedAt.getTime() + life * ROUTE_CERT_RENEW_FRACTION);
}

/** Whether `cert` is still good to present at `now` (before 2/3 of its life). */
export function isFresh(cert: IssuedRouteCertificate, now: Date): boolean {
  return now.getTime() < renewalTime(cert).getTime();
}

function loginId(profile: Pick<Profile, 'proxy' | 'user'>, loginCertPem: string): string {
  const login = createHash('sha256').update(loginCertPem).digest('hex');
  return JSON.stringify([profile.proxy, profile.user, login]);
}

function routeId(request: RouteCertificateRequest): string {
  return JSON.stringify([request.kind, request.name, request.dbUser ?? null, request.dbName ?? null]);
}

/** One cache per client core (GatehouseClient owns it); no module state. */
export class RouteCertificates {
  /** login id + route id → certificate; insertion order is age, for eviction. */
  private readonly cache = new Map<string, IssuedRouteCertificate & { login: string }>();
  private readonly inFlight = new Map<string, Promise<IssuedRouteCertificate>>();

  constructor(private readonly deps: { issue: RouteCertificateIssuer; clock: Clock; maxEntries?: number }) {}

  /** A fresh certificate for the route: the cached one, or one issued now (concurrent callers share it). */
  async get(profile: Profile, loginCertPem: string, request: RouteCertificateRequest): Promise<IssuedRouteCertificate> {
    const login = loginId(profile, loginCertPem);
    const key = login + routeId(request);
    const cached = this.cache.get(key);
    if (cached && isFresh(cached, this.deps.clock())) return cached;
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const issuing = this.issue(profile, login, key, request).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, issuing);
    return issuing;
  }

  /** Keeps a certificate obtained elsewhere (e.g. stored by `gate db login`) when still fresh. */
  remember(
    profile: Profile,
    loginCertPem: string,
    request: RouteCertificateRequest,
    cert: IssuedRouteCertificate,
  ): void {
    if (!isFresh(cert, this.deps.clock())) return;
    const login = loginId(profile, loginCertPem);
    this.store(login, login + routeId(request), cert);
  }

  /** Forgets every certificate of a login (logout). */
  forget(profile: Pick<Profile, 'proxy' | 'user'>): void {
    const prefix = JSON.stringify([profile.proxy, profile.user]).slice(0, -1);
    for (const [key, cert] of this.cache) if (cert.login.startsWith(prefix)) this.cache.delete(key);
  }

  get size(): number {
    return this.cache.size;
  }

  private async issue(
    profile: Profile,
    login: string,
    key: string,
    request: RouteCertificateRequest,
  ): Promise<IssuedRouteCertificate> {
    const issuedAt = this.deps.clock();
    const r = await this.deps.issue(profile, request);
    const cert: IssuedRouteCertificate = { certPem: r.certPem, expiresAt: r.expiresAt, issuedAt };
    this.store(login, key, cert);
    return cert;
  }

  private store(login: string, key: string, cert: IssuedRouteCertificate): void {
    // A new login (new key) of the same user at the same proxy makes the old certificates useless.
    const user = login.slice(0, login.lastIndexOf(','));
    for (const [k, c] of this.cache) if (c.login !== login && c.login.startsWith(user)) this.cache.delete(k);
    this.cache.delete(key);
    this.cache.set(key, { ...cert, login });
    const max = this.deps.maxEntries ?? MAX_CACHED_ROUTE_CERTIFICATES;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value!);
  }
}
