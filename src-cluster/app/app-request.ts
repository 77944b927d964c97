// The app service's decision on a forwarded app connection and on every request made on it: who
// the user is (the forwarded user certificate, verified against the user CA here again), whether
// the certificate is a route certificate for this app, which app it is, and what the one
// authorizer says (locks → role app_labels → role device_trust_mode). Every refusal is a
// GatehouseError whose code and message the user sees (reply line or the denial page).
import type { AppForwardedHeader, AppKind } from '../../src-shared/app-route.ts';
import { appKindOfUri } from '../../src-shared/app-route.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { DerMemo } from '../auth/der-memo.ts';
import { appRouteProblem } from '../auth/cert-route.ts';
import { forwardedUserIdentity } from '../auth/forwarded-user.ts';
import type { TlsIdentity } from '../auth/x509.ts';
import type { AccessDecision, AccessRequest } from '../authz/authorize.ts';
import { authorizeApp as authorizeAppAccess } from '../authz/app-access.ts';
import type { AppLimits } from '../authz/matchers/app.ts';
import { APP_SERVICE_LABEL } from '../resources/app.ts';

export interface AppRewriteHeader {
  name: string;
  value: string;
}

/** A kind "app" resource as the app service needs it: `{name, labels, ...resource.spec}`. */
export interface ServedApp {
  name: string;
  labels: Record<string, string>;
  uri: string;
  rewrite?: { headers?: readonly AppRewriteHeader[] };
  insecure_skip_verify?: boolean;
}

export interface AppRequestDeps {
  /** This app service's name: a configured app labelled for another service is not served here. */
  serviceName: string;
  userCaPems: () => readonly string[];
  /** Called on every request too: keep it a cache read (no RPC). */
  findApp(name: string): Promise<ServedApp | undefined>;
  /** The one authorizer (AccessChecker.authorize); called on every request: a local cache read. */
  authorize(request: AccessRequest<'app'>): Promise<AccessDecision<AppLimits>>;
  now?: () => number;
}

/** The identity of the connection (for the audit log even when refused later), or a refusal. */
export function appRequestIdentity(
  deps: AppRequestDeps,
  header: AppForwardedHeader,
  identities?: DerMemo<TlsIdentity>,
): TlsIdentity {
  const now = (deps.now ?? Date.now)();
  const identity = forwardedUserIdentity(header.user_cert_pem, deps.userCaPems(), now, identities);
  const problem = appRouteProblem(identity.route, header.app);
  if (problem) throw new GatehouseError(ErrorCode.ACCESS_DENIED, problem);
  return identity;
}

/**
 * The app `name` as served here, or APP_NOT_FOUND; `kind` (the ALPN the gateway used, forwarded
 * by the proxy) must be the app's own: an HTTP gateway cannot open a TCP app and the reverse.
 */
export async function findServedApp(deps: AppRequestDeps, name: string, kind: AppKind): Promise<ServedApp> {
  const app = await deps.findApp(name);
  const servedBy = app?.labels[APP_SERVICE_LABEL];
  if (!app || (servedBy !== undefined && servedBy !== deps.serviceName)) {
    throw new GatehouseError(ErrorCode.APP_NOT_FOUND, `app "${name}" not found on app service "${deps.serviceName}"`);
  }
  const appKind = appKindOfUri(app.uri);
  if (appKind !== kind) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `app "${name}" is a ${appKind} app, not ${kind}: use ${appKind === 'tcp' ? 'a TCP' : 'an HTTP'} gateway`,
    );
  }
  return app;
}

/**
 * The one call into the authorizer for an app (authz/app-access.ts: kind "app", locks → role
 * app_labels → device_trust_mode, the refusal already in the doc's code and words).
 */
export async function authorizeApp(deps: AppRequestDeps, identity: TlsIdentity, app: ServedApp): Promise<void> {
  const decision = await authorizeAppAccess(
    deps.authorize,
    { user: identity.user, roles: identity.roles, ...(identity.device ? { device: identity.device } : {}) },
    app,
  );
  if (!decision.allowed) throw new GatehouseError(decision.code, decision.message);
}

/** The whole decision: the app as served now and the authorizer's word; a refusal throws. */
export async function decideApp(
  deps: AppRequestDeps,
  identity: TlsIdentity,
  appName: string,
  kind: AppKind,
): Promise<ServedApp> {
  const app = await findServedApp(deps, appName, kind);
  await authorizeApp(deps, identity, app);
  return app;
}
