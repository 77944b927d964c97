// The cluster's databases (kind "db"): the store admins write through the generic resource API,
// what a user's roles let them see (ListDatabases), and the databases db services register from
// their static configuration (RegisterDatabases), which each service owns and replaces as a whole.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Logger } from '../log/logger.ts';
import {
  databaseKind,
  DB_ORIGIN_CONFIG,
  DB_ORIGIN_LABEL,
  DB_SERVICE_LABEL,
  type DatabaseResource,
  type DatabaseSpec,
} from '../resources/database.ts';
import type { CompiledRole, RoleSet } from '../resources/role-set.ts';
import { ANY_PRINCIPAL, type PrincipalField } from '../resources/role-principals.ts';
import { checkKind, issuesError } from '../resources/validate.ts';
import type { Backend, BatchOp } from '../storage/backend.ts';
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

function bad(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, message);
}

/** The same document, revision aside: an unchanged registration writes nothing (no watch events). */
function sameDocument(a: Resource<DatabaseSpec>, b: DatabaseResource): boolean {
  const { revision: _revision, ...meta } = a.metadata;
  return JSON.stringify({ ...a, metadata: meta }) === JSON.stringify(b);
}

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
   * with their origin and the service, in one transaction. A name held by a database the service
   * does not own (an admin's, another service's) is refused rather than taken over.
   */
  async register(service: string, docs: readonly string[]): Promise<{ written: number; deleted: number }> {
    if (docs.length > MAX_REGISTERED_DATABASES) {
      throw new GatehouseError(
        ErrorCode.REQUEST_TOO_LARGE,
        `at most ${MAX_REGISTERED_DATABASES} databases per registration, got ${docs.length}`,
      );
    }
    const wanted = new Map<string, DatabaseResource>();
    for (const [i, json] of docs.entries()) {
      const db = this.#parse(json, i, service);
      if (wanted.has(db.metadata.name)) throw bad(`database "${db.metadata.name}" is listed twice`);
      wanted.set(db.metadata.name, db);
    }
    const current = new Map((await this.store.list()).map((r) => [r.metadata.name, r]));
    const ours = (r: Resource<DatabaseSpec>) =>
      r.metadata.labels?.[DB_SERVICE_LABEL] === service && r.metadata.labels?.[DB_ORIGIN_LABEL] === DB_ORIGIN_CONFIG;
    const ops: BatchOp[] = [];
    for (const [name, db] of wanted) {
      const existing = current.get(name);
      if (existing && !ours(existing)) {
        const owner = existing.metadata.labels?.[DB_SERVICE_LABEL];
        throw new GatehouseError(
          ErrorCode.ALREADY_EXISTS,
          `database "${name}" already exists (${owner ? `registered by db service "${owner}"` : 'created by an admin'}); rename it in this db service's configuration`,
        );
      }
      if (existing && sameDocument(existing, db)) continue;
      // Conditional writes: a database created or changed since the list above (by an admin, by a
      // concurrent registration) fails the batch instead of being overwritten; the service retries.
      ops.push(
        existing
          ? this.store.updateWrite({
              ...(db as never as Resource<DatabaseSpec>),
              metadata: { ...db.metadata, revision: existing.metadata.revision },
            })
          : this.store.createWrite(db as never),
      );
    }
    let deleted = 0;
    for (const [name, existing] of current) {
      if (ours(existing) && !wanted.has(name)) {
        ops.push({ type: 'delete', key: this.store.keyFor(name) });
        deleted++;
      }
    }
    if (ops.length > 0) await this.backend.batch(ops);
    this.log.info('databases registered', { service, databases: wanted.size, written: ops.length - deleted, deleted });
    return { written: ops.length - deleted, deleted };
  }

  #parse(json: string, index: number, service: string): DatabaseResource {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw bad(`database ${index + 1}: not valid JSON: ${(e as Error).message}`);
    }
    const checked = checkKind(databaseKind, value);
    if (!checked.ok) {
      const err = issuesError(checked.issues);
      throw new GatehouseError(err.code, `database ${index + 1}: ${err.message}`, err.details);
    }
    const db = checked.resource;
    // The origin labels are the cluster's to set: whatever the service sent, they name it.
    const labels = { ...db.metadata.labels, [DB_ORIGIN_LABEL]: DB_ORIGIN_CONFIG, [DB_SERVICE_LABEL]: service };
    return { ...db, metadata: { ...db.metadata, labels } };
  }
}
