// The cluster's apps (kind "app"): the store admins write through the generic resource API, what
// a user's roles let them see (ListApps), and the apps app services register from their static
// configuration (RegisterApps), which each service owns and replaces as a whole.
import type { Logger } from '../log/logger.ts';
import {
  APP_ORIGIN_CONFIG,
  APP_ORIGIN_LABEL,
  APP_SERVICE_LABEL,
  appKind,
  appKindOf,
  type AppResource,
  type AppSpec,
} from '../resources/app.ts';
import type { RoleSet } from '../resources/role-set.ts';
import { checkKind, issuesError } from '../resources/validate.ts';
import type { Backend } from '../storage/backend.ts';
import { ResourceStore, type Resource } from '../storage/resources.ts';
import { registerServiceResources, type RegisteredKind } from './service-registration.ts';

/** Apps one app service may register in one call. */
export const MAX_REGISTERED_APPS = 1000;

/** An app as a user sees it (AuthService.ListApps). */
export interface ListedApp {
  name: string;
  /** "http" | "tcp" */
  kind: string;
  labels: Record<string, string>;
  uri: string;
  publicAddr: string;
  description: string;
}

/**
 * The apps `roleSet` may see: some role's allow app_labels match and no role's deny app_labels
 * do. Device trust is NOT applied here: an untrusted device sees the app and learns at launch
 * why it is refused (auth.proto ListApps).
 */
export function appsVisibleTo(roleSet: RoleSet, apps: readonly Resource<AppSpec>[]): ListedApp[] {
  const out: ListedApp[] = [];
  for (const app of apps) {
    const labels = app.metadata.labels ?? {};
    if (!roleSet.canSee('app_labels', labels)) continue;
    out.push({
      name: app.metadata.name,
      kind: appKindOf(app),
      labels,
      uri: app.spec.uri,
      publicAddr: app.spec.public_addr ?? '',
      description: app.metadata.description ?? '',
    });
  }
  return out;
}

/** How RegisterApps labels and bounds what an app service registers. */
const REGISTERED_APPS: RegisteredKind<AppResource> = {
  definition: appKind,
  noun: 'app',
  serviceNoun: 'app service',
  originLabel: APP_ORIGIN_LABEL,
  originValue: APP_ORIGIN_CONFIG,
  serviceLabel: APP_SERVICE_LABEL,
  max: MAX_REGISTERED_APPS,
};

export class AppCatalog {
  /** Key prefix "/apps/", which the composition serves to watchers of kind "app". */
  readonly store: ResourceStore<AppSpec>;

  constructor(
    private readonly backend: Backend,
    private readonly log: Logger,
  ) {
    this.store = new ResourceStore<AppSpec>(backend, {
      kind: appKind.kind,
      validate: (r) => {
        const checked = checkKind(appKind, r);
        if (!checked.ok) throw issuesError(checked.issues);
        return checked.resource as never;
      },
    });
  }

  /** The app of this name, or undefined. */
  async find(name: string): Promise<AppResource | undefined> {
    return (await this.store.find(name)) as AppResource | undefined;
  }

  async exists(name: string): Promise<boolean> {
    return (await this.store.find(name)) !== undefined;
  }

  list(): Promise<Resource<AppSpec>[]> {
    return this.store.list();
  }

  /**
   * Replaces the apps `service` registered before with `docs` (kind "app" JSON each), labelled
   * gatehouse.dev/origin=config and gatehouse.dev/app-service=<service>, in one transaction. A name
   * held by an app the service does not own (an admin's, another service's) is refused.
   */
  register(service: string, docs: readonly string[]): Promise<{ written: number; deleted: number }> {
    return registerServiceResources(this.backend, this.store, REGISTERED_APPS, service, docs, this.log);
  }
}
