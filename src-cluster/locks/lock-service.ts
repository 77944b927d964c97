// Writing locks: the rules that hold however a lock arrives (`gatectl lock`, `gatectl create -f`).
// The server makes the name and the created_by/created_at fields; a device lock needs device
// trust on and a device the inventory knows (an asset tag is resolved to its id, so the lock
// matches the id certificates carry). The stored item expires with the lock, so storage drops it.
import { randomUUID } from 'node:crypto';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { KindHooks } from '../resources/kind-hooks.ts';
import { discardAudit, type AuditEmitter } from '../audit/audit-events.ts';
import type { Logger } from '../log/logger.ts';
import { describeLockTarget, LOCK_KIND, lockKind, lockTarget, type LockSpec } from '../resources/lock.ts';
import { validateKind } from '../resources/validate.ts';
import type { Backend } from '../storage/backend.ts';
import { ResourceStore, type Resource } from '../storage/resources.ts';

export function lockStore(backend: Backend): ResourceStore<LockSpec> {
  return new ResourceStore<LockSpec>(backend, {
    kind: LOCK_KIND,
    validate: (r) => {
      const lock = validateKind(lockKind, r);
      const metadata = { ...lock.metadata };
      if (lock.spec.expires !== undefined) metadata.expires = lock.spec.expires;
      else delete metadata.expires;
      return { ...lock, metadata } as never;
    },
  });
}

export interface DeviceLookup {
  /** By id or asset tag; undefined when the inventory has no such device. */
  find(idOrAssetTag: string): Promise<{ metadata: { name: string } } | undefined>;
}

export interface LockServiceDeps {
  store: ResourceStore<LockSpec>;
  devices: DeviceLookup;
  clusterDeviceTrustMode: () => string;
  log: Logger;
  audit?: AuditEmitter;
  now?: () => Date;
}

export class LockService {
  readonly store: ResourceStore<LockSpec>;
  readonly #deps: LockServiceDeps;
  readonly #audit: AuditEmitter;
  readonly #now: () => Date;

  constructor(deps: LockServiceDeps) {
    this.store = deps.store;
    this.#deps = deps;
    this.#audit = deps.audit ?? discardAudit;
    this.#now = deps.now ?? (() => new Date());
  }

  /** ResourceAdmin hooks for kind `lock`. */
  resourceHooks(): KindHooks {
    return {
      prepareCreate: (doc, by) => {
        const meta = (doc['metadata'] ??= {}) as Record<string, unknown>;
        if (meta && typeof meta === 'object' && meta['name'] === undefined) meta['name'] = randomUUID();
        const spec = doc['spec'];
        if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return;
        const s = spec as Record<string, unknown>;
        // Who and when are the server's to say.
        s['created_by'] = by?.user ?? s['created_by'] ?? 'unknown';
        s['created_at'] = this.#now().toISOString();
      },
      create: (resource) => this.create(resource as Resource<LockSpec>),
      update: async (resource) => {
        const lock = await this.#checked(resource as Resource<LockSpec>);
        return this.store.update(lock);
      },
      afterDelete: async (name, by) => {
        await this.#audit.emit({
          type: 'lock.delete',
          success: true,
          user: by?.user,
          message: `lock ${name} lifted`,
          fields: { lock: name },
        });
        this.#deps.log.info('lock lifted', { lock: name, by: by?.user });
      },
    };
  }

  async create(resource: Resource<LockSpec>): Promise<Resource<LockSpec>> {
    let lock: Resource<LockSpec>;
    try {
      lock = await this.#checked(resource);
    } catch (e) {
      await this.#audit.emit({
        type: 'lock.create',
        success: false,
        user: resource.spec?.created_by,
        message: (e as Error).message,
        fields: { target: resource.spec?.target },
      });
      throw e;
    }
    const saved = await this.store.create(lock);
    await this.#audit.emit({
      type: 'lock.create',
      success: true,
      user: saved.spec.created_by,
      message: `lock targeting ${describeLockTarget(saved.spec)} created`,
      fields: {
        lock: saved.metadata.name,
        target: saved.spec.target,
        ...(saved.spec.message !== undefined ? { lock_message: saved.spec.message } : {}),
        ...(saved.spec.expires !== undefined ? { expires: saved.spec.expires } : {}),
      },
    });
    this.#deps.log.info('lock created', {
      lock: saved.metadata.name,
      target: describeLockTarget(saved.spec),
      expires: saved.spec.expires ?? 'never',
      by: saved.spec.created_by,
    });
    return saved;
  }

  async #checked(lock: Resource<LockSpec>): Promise<Resource<LockSpec>> {
    if (lock.spec.expires !== undefined && Date.parse(lock.spec.expires) <= this.#now().getTime()) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `lock expiry ${lock.spec.expires} is in the past`);
    }
    const [kind, value] = lockTarget(lock.spec);
    if (kind !== 'device') return lock;
    const mode = this.#deps.clusterDeviceTrustMode();
    if (mode === 'off') {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        'cannot lock a device: device trust is off in this cluster (cluster_auth_preference device_trust.mode), so no certificate names a device',
      );
    }
    const device = await this.#deps.devices.find(value);
    if (!device) {
      throw new GatehouseError(
        ErrorCode.NOT_FOUND,
        `cannot lock device "${value}": no device with this id or asset tag in the inventory; see \`gatectl devices ls\``,
      );
    }
    return { ...lock, spec: { ...lock.spec, target: { device: device.metadata.name } } };
  }
}
