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
  afterDelete?: (name: string, by?: Identity) => Promise<void>;
  /** Fills server-made fields (e.g. a device's id and timestamps, a lock's creator) before validation. */
  prepareCreate?: (doc: Record<string, unknown>, by?: Identity) => void;
  /** Maps what a user typed (e.g. a device's asset tag) to the stored name. */
  resolveName?: (name: string) => Promise<string>;
  /** Replace the plain store writes when a kind has rules across records (unique asset tags). */
  create?: (resource: StoredResource) => Promise<StoredResource>;
  update?: (resource: StoredResource) => Promise<StoredResource>;
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
  parse(
    json: string,
    expectKind?: string,
    forCreate = false,
    by?: Identity,
  ): { resource: Resource; revision?: number } {
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
    if (forCreate && value && typeof value === 'object' && !Array.isArray(value)) {
      const kind = (value as { kind?: unknown }).kind;
      const def = typeof kind === 'string' ? this.registry.get(kind) : undefined;
      if (def) this.hooks[def.kind]?.prepareCreate?.(value as Record<string, unknown>, by);
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
    return s.store.get(await this.resolve(s.kind, name));
  }

  private async resolve(kind: string, name: string): Promise<string> {
    const resolveName = this.hooks[kind]?.resolveName;
    return resolveName ? resolveName(name) : name;
  }

  async create(
    id: Identity,
    json: string,
    upsert: boolean,
    expectKind?: string,
  ): Promise<{ resource: StoredResource; created: boolean }> {
    const { resource } = this.parse(json, expectKind, true, id);
    const s = this.store(resource.kind);
    await this.access.requireResourceAccess(id, s.kind, 'create');
    const hooks = this.hooks[s.kind];
    if (upsert) {
      await this.access.requireResourceAccess(id, s.kind, 'update');
      const existing = await s.store.find(resource.metadata.name);
      const existed = existing !== undefined;
      const asStored = resource as StoredResource;
      const saved =
        existing && hooks?.update
          ? await hooks.update({
              ...asStored,
              metadata: { ...asStored.metadata, revision: existing.metadata.revision },
            })
          : !existing && hooks?.create
            ? await hooks.create(asStored)
            : await s.store.upsert(asStored);
      this.log.info(existed ? 'resource updated' : 'resource created', {
        kind: s.kind,
        name: resource.metadata.name,
        by: id.user,
      });
      return { resource: saved, created: !existed };
    }
    const saved = hooks?.create
      ? await hooks.create(resource as StoredResource)
      : await s.store.create(resource as StoredResource);
    this.log.info('resource created', { kind: s.kind, name: resource.metadata.name, by: id.user });
    return { resource: saved, created: true };
  }

  async update(id: Identity, json: string): Promise<StoredResource> {
    const { resource, revision } = this.parse(json);
    const s = this.store(resource.kind);
    await this.access.requireResourceAccess(id, s.kind, 'update');
    const next = { ...resource, metadata: { ...resource.metadata, revision } } as StoredResource;
    const update = this.hooks[s.kind]?.update;
    const saved = update ? await update(next) : await s.store.update(next);
    this.log.info('resource updated', { kind: s.kind, name: resource.metadata.name, by: id.user });
    return saved;
  }

  async delete(id: Identity, kind: string, name: string): Promise<void> {
    const s = this.store(kind);
    await this.access.requireResourceAccess(id, s.kind, 'delete');
    name = await this.resolve(s.kind, name);
    await s.store.delete(name);
    await this.hooks[s.kind]?.afterDelete?.(name, id);
    this.log.info('resource deleted', { kind: s.kind, name, by: id.user });
  }

  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const [kind, store] of Object.entries(this.stores)) out[kind] = (await store.list()).length;
    return out;
  }
}
