// Resource CRUD for admins, kind by kind. The registry validates; one ResourceStore per kind
// persists; the authorizer decides. Secrets never pass through here (see auth-server.ts).
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { KindRegistry, Resource } from '../resources/registry.ts';
import { validateResource } from '../resources/validate.ts';
import type { ResourceStore, Resource as StoredResource } from '../storage/resources.ts';
import type { AccessChecker, Identity } from '../authz/access.ts';
import type { Logger } from '../log/logger.ts';

export interface KindHooks {
  /** Runs after a resource of this kind was deleted (e.g. drop a user's credentials). */
  afterDelete?: (name: string) => Promise<void>;
}

export class ResourceAdmin {
  constructor(
    private readonly registry: KindRegistry,
    private readonly stores: Record<string, ResourceStore<unknown>>,
    private readonly access: AccessChecker,
    private readonly log: Logger,
    private readonly hooks: Record<string, KindHooks> = {},
  ) {}

  private store(kindOrAlias: string): { kind: string; store: ResourceStore<unknown> } {
    const def = this.registry.require(kindOrAlias);
    const store = this.stores[def.kind];
    if (!store)
      throw new GatehouseError(ErrorCode.UNKNOWN_KIND, `kind "${def.kind}" cannot be managed through the API`);
    return { kind: def.kind, store };
  }

  /** Validates JSON text into a resource; `metadata.revision` is kept aside for updates. */
  parse(json: string, expectKind?: string): { resource: Resource; revision?: number } {
    let value: unknown;
    try {
      value = JSON.parse(json);
    } catch (e) {
      throw new GatehouseError(ErrorCode.INVALID_RESOURCE, `resource is not valid JSON: ${(e as Error).message}`);
    }
    let revision: number | undefined;
    const meta = (value as { metadata?: Record<string, unknown> } | null)?.metadata;
    if (meta && typeof meta === 'object' && 'revision' in meta) {
      revision = typeof meta.revision === 'number' ? meta.revision : undefined;
      delete meta.revision;
    }
    const resource = validateResource(value, this.registry);
    if (expectKind && resource.kind !== expectKind) {
      throw new GatehouseError(
        ErrorCode.INVALID_RESOURCE,
        `expected a ${expectKind} resource, got kind "${resource.kind}"`,
      );
    }
    return { resource, revision };
  }

  async list(id: Identity, kind: string): Promise<StoredResource[]> {
    const s = this.store(kind);
    await this.access.requireResourceAccess(id, s.kind, 'list');
    return s.store.list();
  }

  async get(id: Identity, kind: string, name: string): Promise<StoredResource> {
    const s = this.store(kind);
    await this.access.requireResourceAccess(id, s.kind, 'read');
    return s.store.get(name);
  }

  async create(
    id: Identity,
    json: string,
    upsert: boolean,
    expectKind?: string,
  ): Promise<{ resource: StoredResource; created: boolean }> {
    const { resource } = this.parse(json, expectKind);
    const s = this.store(resource.kind);
    await this.access.requireResourceAccess(id, s.kind, 'create');
    if (upsert) {
      await this.access.requireResourceAccess(id, s.kind, 'update');
      const existed = (await s.store.find(resource.metadata.name)) !== undefined;
      const saved = await s.store.upsert(resource as StoredResource);
      this.log.info(existed ? 'resource updated' : 'resource created', {
        kind: s.kind,
        name: resource.metadata.name,
        by: id.user,
      });
      return { resource: saved, created: !existed };
    }
    const saved = await s.store.create(resource as StoredResource);
    this.log.info('resource created', { kind: s.kind, name: resource.metadata.name, by: id.user });
    return { resource: saved, created: true };
  }

  async update(id: Identity, json: string): Promise<StoredResource> {
    const { resource, revision } = this.parse(json);
    const s = this.store(resource.kind);
    await this.access.requireResourceAccess(id, s.kind, 'update');
    const saved = await s.store.update({ ...resource, metadata: { ...resource.metadata, revision } } as StoredResource);
    this.log.info('resource updated', { kind: s.kind, name: resource.metadata.name, by: id.user });
    return saved;
  }

  async delete(id: Identity, kind: string, name: string): Promise<void> {
    const s = this.store(kind);
    await this.access.requireResourceAccess(id, s.kind, 'delete');
    await s.store.delete(name);
    await this.hooks[s.kind]?.afterDelete?.(name);
    this.log.info('resource deleted', { kind: s.kind, name, by: id.user });
  }

  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [kind, store] of Object.entries(this.stores)) out[kind] = (await store.list()).length;
    return out;
  }
}
