// The app service's decision on a forwarded app connection and on every request made on it: who
// the user is (the forwarded user certificate, verified against the user CA here again), whether
// the certificate is a route certificate for this app, which app it is, and what the one
// authorizer says (locks → role app_labels → role device_trust_mode). Every refusal is a
// GatehouseError whose code and message the user sees (reply line or the denial page).
import type { AppForwardedHeader, AppKind } from '../../src-shared/app-route.ts';
import { appKindOfUri } from '../../src-shared/app-route.ts';
import { APP_ACCESS_DENIED_MESSAGE, APP_UNTRUSTED_DEVICE_MESSAGE } from '../../src-shared/app-pages.ts';
import type { CertRoute } from '../../src-shared/cert-fields.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { DerMemo } from '../auth/der-memo.ts';
import { forwardedUserIdentity } from '../auth/forwarded-user.ts';
import type { TlsIdentity } from '../auth/x509.ts';
import type { AccessDecision, AccessRequest } from '../authz/authorize.ts';
import { UNAUTHORIZED_DEVICE } from '../authz/device-trust-mode.ts';
import type { AppLimits } from '../authz/matchers/app.ts';

/**
 * The label RegisterApps puts on a configured app (docs/app-access.md): such an app is served by
 * the app service it names only. Spelled as resources/app.ts spells it (APP_SERVICE_LABEL there).
 */
export const APP_SERVICE_LABEL = 'gatehouse.dev/app-service';

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

/** Why `route` does not allow a connection to app `app`, or undefined when it does. */
export function appRouteProblem(route: CertRoute | undefined, app: string): string | undefined {
  if (!route) return 'the certificate names no route; get an app certificate ("gate app login")';
  if (route.kind !== 'app') return `the certificate is for a ${route.kind} route, not an app`;
  if (route.name !== app) return `the certificate is for app "${route.name}", not "${app}"`;
  return undefined;
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

/** The authorizer's refusal as the code and exact words docs/app-access.md gives them. */
export function appDenial(decision: { reason: string; recorded?: boolean }): GatehouseError {
  if (decision.reason === UNAUTHORIZED_DEVICE) {
    return new GatehouseError(ErrorCode.DEVICE_UNTRUSTED, APP_UNTRUSTED_DEVICE_MESSAGE);
  }
  if (decision.reason.startsWith(UNAUTHORIZED_DEVICE)) {
    // "unauthorized device: device trust is misconfigured (...)": the reason is the remedy.
    return new GatehouseError(ErrorCode.DEVICE_UNTRUSTED, decision.reason);
  }
  // A lock's refusal is already recorded and says the lock's own words, as SSH shows it.
  if (decision.recorded) return new GatehouseError(ErrorCode.ACCESS_DENIED, decision.reason);
  return new GatehouseError(ErrorCode.ACCESS_DENIED, `${APP_ACCESS_DENIED_MESSAGE}: ${decision.reason}`);
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
 * The one call into the authorizer for an app (kind "app", no action: app_labels and device
 * trust decide). Kept alone so an integrator adapting the authorizer's shape changes one place.
 */
export async function authorizeApp(deps: AppRequestDeps, identity: TlsIdentity, app: ServedApp): Promise<void> {
  const decision = await deps.authorize({
    identity: { user: identity.user, roles: identity.roles, ...(identity.device ? { device: identity.device } : {}) },
    resource: { kind: 'app', name: app.name, labels: app.labels },
    action: {},
  });
  if (!decision.allowed) throw appDenial(decision);
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
