// The cluster's databases (kind "db"): the store admins write through the generic resource API,
// what a user's roles let them see (ListDatabases), and the databases db services register from
// their static configuration (RegisterDatabases), which each service owns and replaces as a whole.
import type { Logger } from '../log/logger.ts';
import {
  databaseKind,
  DB_ORIGIN_CONFIG,
  DB_ORIGIN_LABEL,
  DB_SERVICE_LABEL,
  type DatabaseResource,
  type DatabaseSpec,
} from '../resources/database.ts';
import { registerServiceResources, type RegisteredKind } from './service-registration.ts';
import type { CompiledRole, RoleSet } from '../resources/role-set.ts';
import { ANY_PRINCIPAL, type PrincipalField } from '../resources/role-principals.ts';
import { checkKind, issuesError } from '../resources/validate.ts';
import type { Backend } from '../storage/backend.ts';
import { ResourceStore, type Resource } from '../storage/resources.ts';

/** Databases one db service may register in one call. */
export const MAX_REGISTERED_DATABASES = 1000;

/** A database as a user sees it: what it is and which db users / db names their roles allow. */
export interface ListedDatabase {
  name: string;
  description: string;
  protocol: string;
  uri: string;
  labels: Record<string, string>;
  /** "*" means any (the client then asks); empty means none. */
  allowedDbUsers: string[];
  allowedDbNames: string[];
}

/**
 * Principals of `field` the allow sections of `matching` grant, minus what any role denies (deny
 * principals apply whatever the labels, as in the authorizer's role match). A denied "*" leaves
 * nothing; a granted "*" stays (a specific denied value is then refused when it is asked for).
 */
export function allowedPrincipals(
  roles: readonly CompiledRole[],
  matching: readonly CompiledRole[],
  field: PrincipalField,
): string[] {
  const denied = new Set(roles.flatMap((r) => r.deny.principals[field]));
  if (denied.has(ANY_PRINCIPAL)) return [];
  const out: string[] = [];
  for (const role of matching) {
    for (const value of role.allow.principals[field]) if (!denied.has(value) && !out.includes(value)) out.push(value);
  }
  return out;
}

/** The databases `roleSet` may see (db_labels, deny wins), each with its allowed db users and names. */
export function databasesVisibleTo(roleSet: RoleSet, databases: readonly Resource<DatabaseSpec>[]): ListedDatabase[] {
  const out: ListedDatabase[] = [];
  for (const db of databases) {
    const labels = db.metadata.labels ?? {};
    if (!roleSet.canSee('db_labels', labels)) continue;
    const matching = roleSet.compiled.filter((r) => r.allow.labels.db_labels(labels));
    out.push({
      name: db.metadata.name,
      description: db.metadata.description ?? '',
      protocol: db.spec.protocol,
      uri: db.spec.uri,
      labels,
      allowedDbUsers: allowedPrincipals(roleSet.compiled, matching, 'db_users'),
      allowedDbNames: allowedPrincipals(roleSet.compiled, matching, 'db_names'),
    });
  }
  return out;
}

/** How RegisterDatabases labels and bounds what a db service registers. */
const REGISTERED_DATABASES: RegisteredKind<DatabaseResource> = {
  definition: databaseKind,
  noun: 'database',
  serviceNoun: 'db service',
  originLabel: DB_ORIGIN_LABEL,
  originValue: DB_ORIGIN_CONFIG,
  serviceLabel: DB_SERVICE_LABEL,
  max: MAX_REGISTERED_DATABASES,
};

export class DatabaseCatalog {
  readonly store: ResourceStore<DatabaseSpec>;

  constructor(
    private readonly backend: Backend,
    private readonly log: Logger,
  ) {
    this.store = new ResourceStore<DatabaseSpec>(backend, {
      // Key prefix "/dbs/" (the store's default collection), which the composition serves to watchers.
      kind: databaseKind.kind,
      validate: (r) => {
        const checked = checkKind(databaseKind, r);
        if (!checked.ok) throw issuesError(checked.issues);
        return checked.resource as never;
      },
    });
  }

  async exists(name: string): Promise<boolean> {
    return (await this.store.find(name)) !== undefined;
  }

  list(): Promise<Resource<DatabaseSpec>[]> {
    return this.store.list();
  }

  /**
   * Replaces the databases `service` registered before with `docs` (kind "db" JSON each), labelled
   * with their origin and the service, in one transaction (service-registration.ts). A name held by
   * a database the service does not own (an admin's, another service's) is refused, not taken over.
   */
  register(service: string, docs: readonly string[]): Promise<{ written: number; deleted: number }> {
    return registerServiceResources(this.backend, this.store, REGISTERED_DATABASES, service, docs, this.log);
  }
}
