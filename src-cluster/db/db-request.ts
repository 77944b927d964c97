// The db service's decision on one forwarded request: who the user is (re-read from the user's
// certificate the proxy forwarded, verified against the user CA here again rather than taken on
// the proxy's word), whether that certificate is a route certificate for this database and db
// user / db name, which database it is, and what the one authorizer says (locks → roles →
// device trust). Every refusal is a GatehouseError whose message the user sees in their client.
import type { DbForwardedHeader } from '../../src-shared/db-route.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { DerMemo } from '../auth/der-memo.ts';
import { forwardedUserIdentity } from '../auth/forwarded-user.ts';
import type { TlsIdentity } from '../auth/x509.ts';
import { dbRouteProblem } from '../auth/cert-route.ts';
import type { AccessDecision, AccessRequest } from '../authz/authorize.ts';
import { UNAUTHORIZED_DEVICE } from '../authz/device-trust-mode.ts';
import type { DbLimits } from '../authz/matchers/db.ts';
import { DB_SERVICE_LABEL } from '../resources/database.ts';

/** A kind "db" resource as the db service needs it. */
export interface ServedDatabase {
  name: string;
  labels: Record<string, string>;
  protocol: 'postgres' | 'mysql';
  uri: string;
  tls?: { ca_cert?: string; server_name?: string };
}

export interface DbRequestDeps {
  /** This db service's name: a configured database labelled for another service is not served here. */
  serviceName: string;
  userCaPems: () => readonly string[];
  findDatabase(name: string): Promise<ServedDatabase | undefined>;
  authorize(request: AccessRequest<'db'>): Promise<AccessDecision<DbLimits>>;
  now?: () => number;
}

export interface AuthorizedDbRequest {
  identity: TlsIdentity;
  database: ServedDatabase;
  limits: DbLimits;
}

/** The message a denied user sees: device trust and locks as the authorizer says them, roles named as such. */
export function denialMessage(decision: { reason: string; recorded?: boolean }): string {
  if (decision.reason.startsWith(UNAUTHORIZED_DEVICE) || decision.recorded) return decision.reason;
  return `access to db denied: ${decision.reason}`;
}

/** The identity of the request (for the audit log even when refused later), or a refusal. */
export function requestIdentity(
  deps: DbRequestDeps,
  header: DbForwardedHeader,
  identities?: DerMemo<TlsIdentity>,
): TlsIdentity {
  const now = (deps.now ?? Date.now)();
  const identity = forwardedUserIdentity(header.user_cert_pem, deps.userCaPems(), now, identities);
  const problem = dbRouteProblem(identity.route, {
    db: header.db,
    dbUser: header.db_user,
    ...(header.db_name !== undefined ? { dbName: header.db_name } : {}),
  });
  if (problem) throw new GatehouseError(ErrorCode.ACCESS_DENIED, problem);
  return identity;
}

/** The decision on a request whose identity `requestIdentity` established. */
export async function authorizeDbRequest(
  deps: DbRequestDeps,
  header: DbForwardedHeader,
  identity: TlsIdentity,
): Promise<AuthorizedDbRequest> {
  const database = await deps.findDatabase(header.db);
  const servedBy = database?.labels[DB_SERVICE_LABEL];
  if (!database || (servedBy !== undefined && servedBy !== deps.serviceName)) {
    throw new GatehouseError(
      ErrorCode.DB_NOT_FOUND,
      `database "${header.db}" not found on db service "${deps.serviceName}"`,
    );
  }
  if (database.protocol !== header.protocol) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `database "${database.name}" speaks ${database.protocol}, not ${header.protocol}: use a ${database.protocol} client`,
    );
  }
  const decision = await deps.authorize({
    identity: { user: identity.user, roles: identity.roles, ...(identity.device ? { device: identity.device } : {}) },
    resource: { kind: 'db', name: database.name, labels: database.labels },
    action: { dbUser: header.db_user, ...(header.db_name !== undefined ? { dbName: header.db_name } : {}) },
  });
  if (!decision.allowed) throw new GatehouseError(ErrorCode.ACCESS_DENIED, denialMessage(decision));
  return { identity, database, limits: decision.limits };
}
