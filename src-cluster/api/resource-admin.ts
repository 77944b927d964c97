// Resource CRUD for admins, kind by kind. The registry validates; one ResourceStore per kind
// persists; the authorizer decides. Secrets never pass through here (see auth-server.ts).
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { KindRegistry, Resource } from '../resources/registry.ts';
import { validateResource } from '../resources/validate.ts';
import type { ResourceStore, Resource as StoredResource } from '../storage/resources.ts';
import type { BatchOp } from '../storage/backend.ts';
import type { AccessChecker, Identity } from '../authz/access.ts';
import type { Logger } from '../log/logger.ts';
import { discardAudit, type AuditEmitter } from '../audit/audit-events.ts';
import { auditedChange, type ChangeAction, type ChangeContext } from '../audit/resource-audit.ts';
import type { KindHooks } from '../resources/kind-hooks.ts';

export class ResourceAdmin {
  constructor(
    private readonly registry: KindRegistry,
    private readonly stores: Record<string, ResourceStore<unknown>>,
    private readonly access: AccessChecker,
    private readonly log: Logger,
    private readonly hooks: Record<string, KindHooks> = {},
    private readonly audit: AuditEmitter = discardAudit,
  ) {}

  /** Runs a change and records it (device.* or resource.*) before the caller hears of success. */
  private audited<T>(action: ChangeAction, id: Identity, target: ChangeContext['target'], run: () => Promise<T>) {
    const kind = (k: string) => this.registry.get(k)?.kind ?? k;
    return auditedChange(this.audit, this.log, { action, user: id.user, kindOf: kind, target }, run);
  }

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

  /** list() as JSON texts (see ResourceStore.listJson): what the API sends. */
  async listJson(id: Identity, kind: string): Promise<string[]> {
    const s = this.store(kind);
    await this.access.requireResourceAccess(id, s.kind, 'list');
    return s.store.listJson();
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

  /**
   * `alongside(name)` gives writes that must commit with a new resource in one transaction
   * (a user's credentials or password token); only for plain creates.
   */
  create(
    id: Identity,
    json: string,
    upsert: boolean,
    expectKind?: string,
    alongside?: (name: string) => Promise<BatchOp[]>,
  ): Promise<{ resource: StoredResource; created: boolean }> {
    return this.audited('create', id, { kind: expectKind, ...peekTarget(json) }, () =>
      this.createUnaudited(id, json, upsert, expectKind, alongside),
    );
  }

  private async createUnaudited(
    id: Identity,
    json: string,
    upsert: boolean,
    expectKind?: string,
    alongside?: (name: string) => Promise<BatchOp[]>,
  ): Promise<{ resource: StoredResource; created: boolean }> {
    const { resource } = this.parse(json, expectKind, true, id);
    const s = this.store(resource.kind);
    await this.access.requireResourceAccess(id, s.kind, 'create');
    const hooks = this.hooks[s.kind];
    if (alongside && (upsert || hooks?.create)) {
      throw new GatehouseError(ErrorCode.INTERNAL, `${s.kind} creates cannot carry extra writes`);
    }
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
      : await s.store.create(resource as StoredResource, alongside ? await alongside(resource.metadata.name) : []);
    this.log.info('resource created', { kind: s.kind, name: resource.metadata.name, by: id.user });
    return { resource: saved, created: true };
  }

  update(id: Identity, json: string): Promise<StoredResource> {
    return this.audited('update', id, peekTarget(json), () => this.updateUnaudited(id, json));
  }

  private async updateUnaudited(id: Identity, json: string): Promise<StoredResource> {
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
    // What is being deleted (a device's id and asset tag), read while it still exists.
    const canonical = this.registry.get(kind)?.kind ?? kind;
    const stored = await this.resolve(canonical, name).catch(() => name);
    const before = await this.stores[canonical]?.find(stored).catch(() => undefined);
    return this.audited('delete', id, { kind, name: stored, before }, () => this.deleteUnaudited(id, kind, name));
  }

  private async deleteUnaudited(id: Identity, kind: string, name: string): Promise<void> {
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

/** Kind and name from request JSON, best effort, so a refused change is still recorded by name. */
function peekTarget(json: string): { kind?: string; name?: string } {
  try {
    const doc = JSON.parse(json) as { kind?: unknown; metadata?: { name?: unknown } };
    return {
      kind: typeof doc.kind === 'string' ? doc.kind : undefined,
      name: typeof doc.metadata?.name === 'string' ? doc.metadata.name : undefined,
    };
  } catch {
    return {};
  }
}
