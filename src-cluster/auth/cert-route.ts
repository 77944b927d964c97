// The route a route certificate names (AuthService.IssueRouteCertificate): the OID_ROUTE_*
// extensions of src-shared/cert-fields.ts read back from a verified client certificate. The
// proxy and the db service both check it, so it sits here, below both of them.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  OID_ROUTE_DB_NAME,
  OID_ROUTE_DB_USER,
  OID_ROUTE_KIND,
  OID_ROUTE_NAME,
  type CertRoute,
} from '../../src-shared/cert-fields.ts';

function extensionText(cert: x509.X509Certificate, oid: string): string | undefined {
  const e = cert.getExtension(oid);
  return e ? Buffer.from(e.value).toString('utf8') : undefined;
}

/** The certificate's route, or undefined when it names none (an ordinary login certificate). */
export function certRouteOf(der: Buffer | string): CertRoute | undefined {
  const cert = new x509.X509Certificate(der);
  const kind = extensionText(cert, OID_ROUTE_KIND);
  const name = extensionText(cert, OID_ROUTE_NAME);
  if (!kind || !name) return undefined;
  const route: CertRoute = { kind, name };
  const dbUser = extensionText(cert, OID_ROUTE_DB_USER);
  const dbName = extensionText(cert, OID_ROUTE_DB_NAME);
  if (dbUser) route.dbUser = dbUser;
  if (dbName) route.dbName = dbName;
  return route;
}

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
