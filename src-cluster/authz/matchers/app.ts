// Web apps: selected by `app_labels` alone. There is no "as whom" for an app: the app sees the
// user's identity in the forwarded request, and what the user may do inside is the app's business.
// Device trust for apps comes from the roles alone (docs/app-access.md): the cluster-wide mode
// does not apply, so a role with device_trust_mode: required is how an app demands a trusted device.
import type { KindMatcher } from './matcher.ts';

export const APP_RESOURCE_KIND = 'app';

/** Nothing to ask for yet; routes or methods would be principals of a later version. */
export type AppAction = Record<string, never>;
export type AppLimits = Record<string, never>;

export const appMatcher: KindMatcher<AppAction, AppLimits> = {
  kind: APP_RESOURCE_KIND,
  noun: 'app',
  labelsField: 'app_labels',
  deviceTrust: 'roles',
  principals: () => [],
  lockTargets: (app) => [{ kind: 'app', value: app.name }],
  auditContext: (app) => ({ app: app.name, action: 'app' }),
  grant: () => ({ allowed: true, limits: {} }),
};
