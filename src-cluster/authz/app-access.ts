// The app service's entry into the one authorizer (docs/app-access.md "Roles and the decision"):
// kind "app" — locks → role app_labels (deny wins) → the granting roles' device_trust_mode — and
// the refusal in the words and code the user sees on the denial page or the gateway's console.
// The app service calls this when a connection opens and again for every request on it, so it
// stays a pure function of the local cache (no network round trip).
import { APP_ACCESS_DENIED_MESSAGE, APP_UNTRUSTED_DEVICE_MESSAGE } from '../../src-shared/app-pages.ts';
import { ErrorCode } from '../../src-shared/errors.ts';
import type { AccessDecision, AccessIdentity, AccessRequest } from './authorize.ts';
import { UNAUTHORIZED_DEVICE } from './device-trust-mode.ts';
import { APP_RESOURCE_KIND, type AppLimits } from './matchers/app.ts';

/** An app as the authorizer needs it: its name and labels (metadata of the kind "app" resource). */
export interface AppTarget {
  name: string;
  labels: Readonly<Record<string, string>>;
}

export interface AppAccessDenied {
  allowed: false;
  /** DEVICE_UNTRUSTED for device trust, ACCESS_DENIED for locks and roles. */
  code: typeof ErrorCode.DEVICE_UNTRUSTED | typeof ErrorCode.ACCESS_DENIED;
  /** The reply line's / page's message, exact words of docs/app-access.md. */
  message: string;
  /** The authorizer's own reason (for logs and the audit event). */
  reason: string;
  /** The refusal (a lock) is already in the audit log as access.denied. */
  recorded?: boolean;
}

export type AppAccessDecision = { allowed: true } | AppAccessDenied;

/** The authorizer as the app service holds it: AccessChecker.authorize, or a test's. */
export type AuthorizeApp = (request: AccessRequest<'app'>) => Promise<AccessDecision<AppLimits>>;

/**
 * The user-facing refusal for an authorizer denial of kind app:
 * - device trust: DEVICE_UNTRUSTED "access to this app requires a trusted device" (a misconfigured
 *   mode keeps its detail after the exact words);
 * - a lock (recorded): ACCESS_DENIED with the lock's text as SSH shows it;
 * - roles and anything else: ACCESS_DENIED "access to app denied: <why>".
 */
export function appAccessDenial(decision: { reason: string; recorded?: boolean }): AppAccessDenied {
  const { reason } = decision;
  const recorded = decision.recorded ? { recorded: true } : {};
  if (reason === UNAUTHORIZED_DEVICE || reason.startsWith(`${UNAUTHORIZED_DEVICE}:`)) {
    const detail = reason.slice(UNAUTHORIZED_DEVICE.length);
    return {
      allowed: false,
      code: ErrorCode.DEVICE_UNTRUSTED,
      message: APP_UNTRUSTED_DEVICE_MESSAGE + detail,
      reason,
      ...recorded,
    };
  }
  if (decision.recorded) return { allowed: false, code: ErrorCode.ACCESS_DENIED, message: reason, reason, ...recorded };
  // The role matcher words its reasons for every kind ("access to app "x" is denied by role y");
  // after the page's own "access to app denied: " the repeated "access to " only stutters.
  const why = reason.replace(/^access to /, '');
  return { allowed: false, code: ErrorCode.ACCESS_DENIED, message: `${APP_ACCESS_DENIED_MESSAGE}: ${why}`, reason };
}

/** The decision for `identity` on `app`, with the refusal ready to show. Never throws. */
export async function authorizeApp(
  authorize: AuthorizeApp,
  identity: AccessIdentity,
  app: AppTarget,
): Promise<AppAccessDecision> {
  const decision = await authorize({
    identity,
    resource: { kind: APP_RESOURCE_KIND, name: app.name, labels: app.labels },
    action: {},
  });
  return decision.allowed ? { allowed: true } : appAccessDenial(decision);
}
