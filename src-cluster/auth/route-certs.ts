// Route certificates (AuthService.IssueRouteCertificate): a user certificate for one route (kind
// "db" or "app"), made from the CALLING certificate — same user, roles, logins, device fields and
// key — plus the route fields. Nothing of the identity comes from the request: the caller can
// narrow what it holds to one database or app, never widen it. Role checks happen when the route
// is used (the db or app service asks the authorizer), so a denial reaches the user's own client
// as its error; here only what makes issuing pointless or wrong is refused: an unknown database or
// app, a lock, a bad key.
import { X509Certificate, type KeyObject } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { CertRoute } from '../../src-shared/cert-fields.ts';
import type { AuditEmitter } from '../audit/audit-events.ts';
import { trustedDeviceField } from '../audit/audit-emit.ts';
import type { AccessChecker } from '../authz/access.ts';
import { accessTargets } from '../locks/lock-targets.ts';
import { nameProblem } from '../resources/fields.ts';
import { PRINCIPAL_RULES } from '../resources/role-principals.ts';
import type { CertAuthorities } from './authorities.ts';
import { parseP256PublicKey } from './db-certs.ts';
import { issueClientCert, type TlsIdentity } from './x509.ts';

/** Kinds a route certificate may name. */
export const ROUTE_KINDS = ['db', 'app'] as const;
export const DEFAULT_ROUTE_CERT_TTL_MS = 3600_000;
export const MAX_ROUTE_CERT_TTL_MS = 12 * 3600_000;
const BACKDATE_MS = 60_000;

export interface RouteCertRequest {
  tlsPublicKeyPem: string;
  kind: string;
  name: string;
  dbUser: string;
  dbName: string;
  /** 0: the default (1 h). */
  ttlSeconds: number;
}

export interface RouteCertCaller {
  identity: TlsIdentity;
  /** DER of the calling certificate (its key is the only key a route certificate is issued for). */
  certDer: Buffer;
  address: string;
}

export interface RouteCertDeps {
  cas: Pick<CertAuthorities, 'tlsUser'>;
  access: Pick<AccessChecker, 'requireNoLock'>;
  /** Whether a database of this name exists. */
  databaseExists(name: string): Promise<boolean>;
  /** Whether an app of this name exists. */
  appExists(name: string): Promise<boolean>;
  audit: AuditEmitter;
}

export interface IssuedRouteCert {
  certPem: string;
  expires: Date;
  route: CertRoute;
}

function bad(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, message);
}

/** The route asked for, checked field by field (the names end up in certificates and audit events). */
export function routeOf(req: Pick<RouteCertRequest, 'kind' | 'name' | 'dbUser' | 'dbName'>): CertRoute {
  if (!(ROUTE_KINDS as readonly string[]).includes(req.kind)) {
    throw bad(
      `route kind ${JSON.stringify(req.kind.slice(0, 64))} is not supported (supported: ${ROUTE_KINDS.join(', ')})`,
    );
  }
  const problem = nameProblem(req.name);
  if (problem) throw bad(`${req.kind === 'app' ? 'app' : 'database'} name: ${problem}`);
  // An app route names the app and nothing else: db fields in it would be carried unchecked.
  if (req.kind === 'app' && (req.dbUser || req.dbName)) throw bad('db_user and db_name are for database routes only');
  for (const [field, value] of [
    ['db_users', req.dbUser],
    ['db_names', req.dbName],
  ] as const) {
    const why = value ? PRINCIPAL_RULES[field].problem(value) : undefined;
    if (why) throw bad(why);
  }
  return {
    kind: req.kind,
    name: req.name,
    ...(req.dbUser ? { dbUser: req.dbUser } : {}),
    ...(req.dbName ? { dbName: req.dbName } : {}),
  };
}

/** The requested lifetime: 1 h by default, at most 12 h, never past the calling certificate. */
export function routeCertExpiry(ttlSeconds: number, callerNotAfter: Date, now: number): Date {
  if (!Number.isFinite(ttlSeconds) || ttlSeconds < 0) throw bad('ttl_seconds must not be negative');
  const wanted = ttlSeconds > 0 ? ttlSeconds * 1000 : DEFAULT_ROUTE_CERT_TTL_MS;
  const end = Math.min(now + Math.min(wanted, MAX_ROUTE_CERT_TTL_MS), callerNotAfter.getTime());
  return new Date(Math.floor(end / 1000) * 1000);
}

function sameKey(a: KeyObject, b: KeyObject): boolean {
  return a.export({ format: 'der', type: 'spki' }).equals(b.export({ format: 'der', type: 'spki' }));
}

/** DB_NOT_FOUND / APP_NOT_FOUND unless the route's resource exists. */
async function requireRouteTarget(deps: RouteCertDeps, route: CertRoute): Promise<void> {
  if (route.kind === 'app') {
    if (!(await deps.appExists(route.name))) {
      throw new GatehouseError(ErrorCode.APP_NOT_FOUND, `app "${route.name}" not found`, { app: route.name });
    }
    return;
  }
  if (!(await deps.databaseExists(route.name))) {
    throw new GatehouseError(ErrorCode.DB_NOT_FOUND, `database "${route.name}" not found`, { db: route.name });
  }
}

export async function issueRouteCertificate(
  deps: RouteCertDeps,
  caller: RouteCertCaller,
  req: RouteCertRequest,
  now = Date.now(),
): Promise<IssuedRouteCert> {
  const who = caller.identity;
  if (who.route) {
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      'a route certificate cannot ask for another one; use the login certificate',
    );
  }
  const route = routeOf(req);
  const publicKey = parseP256PublicKey(req.tlsPublicKeyPem);
  const callerKey = new X509Certificate(caller.certDer).publicKey;
  if (!sameKey(publicKey, callerKey)) {
    throw bad('tls_public_key_pem must be the key of the calling certificate (the login key)');
  }
  await deps.access.requireNoLock(
    [
      ...accessTargets({ user: who.user, roles: who.roles, device: who.device?.deviceId }),
      { kind: route.kind === 'app' ? 'app' : 'db', value: route.name },
    ],
    { action: 'issue route certificate', [route.kind]: route.name },
  );
  await requireRouteTarget(deps, route);
  const expires = routeCertExpiry(req.ttlSeconds, who.notAfter, now);
  if (expires.getTime() <= now) throw new GatehouseError(ErrorCode.CERT_EXPIRED, 'the calling certificate has expired');
  const certPem = await issueClientCert({
    ca: deps.cas.tlsUser.material,
    publicKey,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter: expires,
    user: who.user,
    roles: who.roles,
    logins: who.logins,
    ...(who.device ? { device: who.device } : {}),
    route,
  });
  // Recorded before the certificate leaves: no audit, no certificate.
  await deps.audit.emit({
    type: 'cert.create',
    success: true,
    user: who.user,
    fields: {
      roles: who.roles,
      expires: expires.toISOString(),
      client_address: caller.address,
      route_kind: route.kind,
      route_name: route.name,
      ...(route.dbUser ? { db_user: route.dbUser } : {}),
      ...(route.dbName ? { db_name: route.dbName } : {}),
      ...(who.device ? { trusted_device: trustedDeviceField(who.device) } : {}),
    },
  });
  return { certPem, expires, route };
}
