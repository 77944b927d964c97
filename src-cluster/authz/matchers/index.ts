// Every kind the authorizer decides, by `resource.kind`. A new kind of access is a matcher file
// next to these and one line in each map below; the core (../authorize.ts) needs no change.
import type { SshSessionLimits } from '../../resources/role-set.ts';
import { appMatcher, type AppAction, type AppLimits } from './app.ts';
import { dbMatcher, type DbAction, type DbLimits } from './db.ts';
import { kubeMatcher, type KubeAction, type KubeLimits } from './kube.ts';
import type { KindMatcher } from './matcher.ts';
import { sshMatcher, type SshAction } from './ssh.ts';

/** What a request of each kind asks for. */
export interface KindActions {
  node: SshAction;
  db: DbAction;
  app: AppAction;
  kube_cluster: KubeAction;
}

/** What an allowed request of each kind carries to the service that enforces it. */
export interface KindLimits {
  node: SshSessionLimits;
  db: DbLimits;
  app: AppLimits;
  kube_cluster: KubeLimits;
}

export type AccessKind = keyof KindActions;

export const KIND_MATCHERS: { readonly [K in AccessKind]: KindMatcher<KindActions[K], KindLimits[K]> } = {
  node: sshMatcher,
  db: dbMatcher,
  app: appMatcher,
  kube_cluster: kubeMatcher,
};

export function isAccessKind(kind: string): kind is AccessKind {
  return Object.hasOwn(KIND_MATCHERS, kind);
}

export type { AccessResource, GrantContext, KindMatcher, RequestedPrincipal } from './matcher.ts';
export type { AppAction, AppLimits, DbAction, DbLimits, KubeAction, KubeLimits, SshAction };
