// Whether a route certificate's route (TlsIdentity.route, read by x509.ts) allows a database or
// app request. The proxy and the services behind it both check it, so it sits here, below them all.
import type { CertRoute } from '../../src-shared/cert-fields.ts';

/**
 * Why `route` does not allow the database route asked for, or undefined when it does: it must be
 * of kind "db", name this database, and match the db user / db name wherever it pins them.
 */
export function dbRouteProblem(
  route: CertRoute | undefined,
  asked: { db: string; dbUser: string; dbName?: string },
): string | undefined {
  if (!route) return 'the certificate names no route; get a database certificate ("gate db login")';
  if (route.kind !== 'db') return `the certificate is for a ${route.kind} route, not a database`;
  if (route.name !== asked.db) return `the certificate is for database "${route.name}", not "${asked.db}"`;
  if (route.dbUser !== undefined && route.dbUser !== asked.dbUser) {
    return `the certificate is for db user "${route.dbUser}", not "${asked.dbUser}"`;
  }
  if (route.dbName !== undefined && route.dbName !== (asked.dbName ?? '')) {
    return `the certificate is for db name "${route.dbName}", not "${asked.dbName ?? ''}"`;
  }
  return undefined;
}

/**
 * Why `route` does not allow the app route asked for, or undefined when it does: it must be of
 * kind "app" and name this app (an app route pins nothing else).
 */
export function appRouteProblem(route: CertRoute | undefined, app: string): string | undefined {
  if (!route) return 'the certificate names no route; get an app certificate ("gate app login")';
  if (route.kind !== 'app') return `the certificate is for a ${route.kind} route, not an app`;
  if (route.name !== app) return `the certificate is for app "${route.name}", not "${app}"`;
  return undefined;
}
