// A service's local copy of what it decides with, fed by auth's WatchResources stream: roles,
// users, locks, the cluster auth preference, the nodes, databases and apps, the live db and app
// services (the proxy routes to them), plus the user CAs' public parts.
// The copy lives in an in-memory SQLite backend and is read through ordinary ResourceStores, so
// the AccessChecker and the LockWatcher run on it unchanged (they only list, get and watch).
// While auth is down the copy stays as it was and decisions go on from it; on reconnect the new
// snapshot replaces it (deleting what vanished meanwhile), then changes stream in again.
import { ResourceStore, type Resource } from '../storage/resources.ts';
import { SqliteBackend } from '../storage/sqlite.ts';
import type { Logger } from '../log/logger.ts';
import type { WatchResourcesEvent } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import type { RoleSpec } from '../resources/role.ts';
import type { UserResource } from '../resources/user.ts';
import type { LockSpec } from '../resources/lock.ts';
import {
  CAP_KIND,
  newClusterAuthPreference,
  type ClusterAuthPreferenceResource,
  type ClusterAuthPreferenceSpec,
} from '../resources/cluster-auth-preference.ts';
import type { NodeSpec } from '../auth/auth-server.ts';
import { APP_SERVER_KIND, DB_SERVER_KIND, ServerDirectory } from './service-servers.ts';
import { DATABASE_KIND, type DatabaseSpec } from '../resources/database.ts';
import { APP_KIND, type AppSpec } from '../resources/app.ts';

/** The kinds a service watches; auth refuses kinds the caller's role may not read. */
export const CACHED_KINDS = [
  'role',
  'user',
  'lock',
  CAP_KIND,
  'node',
  'db',
  DB_SERVER_KIND,
  APP_KIND,
  APP_SERVER_KIND,
] as const;
export type CachedKind = (typeof CACHED_KINDS)[number];

/**
 * Which of CACHED_KINDS a role watches: only the proxy routes, so only it needs nodes and the db
 * and app services; databases go to the proxy and db services, apps to the proxy and app services.
 */
export function cachedKindsFor(role: string): CachedKind[] {
  const routing: readonly CachedKind[] = ['node', DB_SERVER_KIND, APP_SERVER_KIND];
  return CACHED_KINDS.filter((k) => {
    if (routing.includes(k)) return role === 'proxy';
    if (k === 'db') return role === 'proxy' || role === 'db';
    if (k === APP_KIND) return role === 'proxy' || role === 'app';
    return true;
  });
}

export interface CachedCas {
  tlsUserCaPems: string[];
  sshUserCaKeys: string[];
}

type AnyStore = ResourceStore<unknown>;

export class ResourceCache {
  readonly roles: ResourceStore<RoleSpec>;
  readonly users: ResourceStore<UserResource['spec']>;
  readonly locks: ResourceStore<LockSpec>;
  readonly nodes: ResourceStore<NodeSpec>;
  readonly databases: ResourceStore<DatabaseSpec>;
  readonly apps: ResourceStore<AppSpec>;
  /** The db services' inventory records (proxy only): where each one answers and whether it is live. */
  readonly dbServers = new ServerDirectory('db service');
  /** The app services' inventory records (proxy only), as dbServers. */
  readonly appServers = new ServerDirectory('app service');
  readonly #stores: Map<string, AnyStore>;
  readonly #backend: SqliteBackend;
  readonly #log: Logger;
  #preference: ClusterAuthPreferenceResource = newClusterAuthPreference();
  #cas: CachedCas;
  #snapshot: WatchResourcesEvent[] | undefined;
  #loaded = false;
  #onCas: ((cas: CachedCas) => void) | undefined;

  private constructor(backend: SqliteBackend, initialCas: CachedCas, log: Logger) {
    this.#backend = backend;
    this.#log = log;
    this.#cas = initialCas;
    // No validators: auth validated every resource before storing it; the copy only mirrors.
    this.roles = new ResourceStore<RoleSpec>(backend, { kind: 'role' });
    this.users = new ResourceStore<UserResource['spec']>(backend, { kind: 'user' });
    this.locks = new ResourceStore<LockSpec>(backend, { kind: 'lock' });
    this.nodes = new ResourceStore<NodeSpec>(backend, { kind: 'node' });
    this.databases = new ResourceStore<DatabaseSpec>(backend, { kind: DATABASE_KIND });
    this.apps = new ResourceStore<AppSpec>(backend, { kind: APP_KIND });
    const cap = new ResourceStore<ClusterAuthPreferenceSpec>(backend, { kind: CAP_KIND });
    this.#stores = new Map<string, AnyStore>([
      ['role', this.roles as AnyStore],
      ['user', this.users as AnyStore],
      ['lock', this.locks as AnyStore],
      ['node', this.nodes as AnyStore],
      ['db', this.databases as AnyStore],
      [APP_KIND, this.apps as AnyStore],
      [CAP_KIND, cap as AnyStore],
    ]);
  }

  /** `initialCas` come from the join answer, so the service trusts the user CAs before the first snapshot. */
  static async open(initialCas: CachedCas, log: Logger): Promise<ResourceCache> {
    const backend = await SqliteBackend.open({
      path: ':memory:',
      onBackgroundError: (e) => log.error('resource cache background task failed', { error: e.message }),
    });
    return new ResourceCache(backend, initialCas, log);
  }

  /** The cluster auth preference last seen (the defaults until the first snapshot). */
  preference(): ClusterAuthPreferenceResource {
    return this.#preference;
  }

  cas(): CachedCas {
    return this.#cas;
  }

  /** Hears each change of the user CAs (a node re-reads them per login anyway; the proxy rebuilds TLS). */
  onCasChanged(listener: (cas: CachedCas) => void): void {
    this.#onCas = listener;
  }

  /** True once a full snapshot has been applied. */
  get loaded(): boolean {
    return this.#loaded;
  }

  /** A new stream begins: its events up to `init` are a snapshot that will replace the copy. */
  beginSnapshot(): void {
    this.#snapshot = [];
  }

  /** Applies one event of the stream. */
  async apply(event: WatchResourcesEvent): Promise<void> {
    if (event.type === 'ca') {
      this.#cas = { tlsUserCaPems: [...event.tlsUserCaPems], sshUserCaKeys: [...event.sshUserCaKeys] };
      this.#onCas?.(this.#cas);
      return;
    }
    if (this.#snapshot && event.type !== 'init') {
      this.#snapshot.push(event);
      return;
    }
    if (event.type === 'init') return this.#replaceWithSnapshot();
    await this.#applyChange(event);
  }

  async close(): Promise<void> {
    await this.#backend.close();
  }

  async #replaceWithSnapshot(): Promise<void> {
    const events = this.#snapshot ?? [];
    this.#snapshot = undefined;
    const wanted = new Set(events.filter((e) => e.type === 'put').map((e) => `${e.kind}/${e.name}`));
    this.dbServers.retain((name) => wanted.has(`${DB_SERVER_KIND}/${name}`));
    this.appServers.retain((name) => wanted.has(`${APP_SERVER_KIND}/${name}`));
    for (const [kind, store] of this.#stores) {
      for (const stale of await store.list()) {
        if (wanted.has(`${kind}/${stale.metadata.name}`)) continue;
        await store.delete(stale.metadata.name).catch(() => undefined);
        this.#logApplied(kind, stale.metadata.name, 'delete');
      }
    }
    for (const event of events) await this.#applyChange(event);
    if (!events.some((e) => e.kind === CAP_KIND && e.type === 'put')) this.#preference = newClusterAuthPreference();
    this.#loaded = true;
    this.#log.debug('resource cache loaded', { resources: events.length });
  }

  async #applyChange(event: WatchResourcesEvent): Promise<void> {
    // Inventory records are not resources (no metadata): they live beside the stores.
    if (event.kind === DB_SERVER_KIND) return this.dbServers.apply(event, this.#log);
    if (event.kind === APP_SERVER_KIND) return this.appServers.apply(event, this.#log);
    const store = this.#stores.get(event.kind);
    if (!store) {
      this.#log.warn('resource cache: ignored an event of a kind it does not keep', { kind: event.kind });
      return;
    }
    if (event.type === 'delete') {
      await store.delete(event.name).catch(() => undefined);
      return this.#logApplied(event.kind, event.name, 'delete');
    }
    if (event.type !== 'put') return;
    let resource: Resource<unknown>;
    try {
      resource = JSON.parse(event.resourceJson) as Resource<unknown>;
    } catch {
      this.#log.warn('resource cache: auth sent a resource that is not JSON', { kind: event.kind, name: event.name });
      return;
    }
    const expires = resource.metadata?.expires;
    // An expired resource (a lapsed lock, a node gone quiet) only replaces what the copy held.
    if (typeof expires === 'string' && new Date(expires).getTime() <= Date.now()) {
      await store.delete(event.name).catch(() => undefined);
      return this.#logApplied(event.kind, event.name, 'delete');
    }
    await store.upsert(resource);
    if (event.kind === CAP_KIND) this.#preference = resource as unknown as ClusterAuthPreferenceResource;
    this.#logApplied(event.kind, event.name, 'put');
  }

  /**
   * Once a change is in the copy, decisions made from it see it (the stores' watchers, such as
   * the LockWatcher, are fed synchronously on write). Tests wait for this line in every service
   * before they rely on a change made through auth (test-support/cluster-process.ts).
   */
  #logApplied(kind: string, name: string, type: 'put' | 'delete'): void {
    this.#log.debug('resource cache applied', { kind, name, type });
  }
}
