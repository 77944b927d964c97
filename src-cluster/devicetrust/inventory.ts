// The device inventory on top of the resource store: devices keyed by a server-made uuid,
// asset tags unique per OS, and single-use enroll tokens. Tokens are stored only as their
// SHA-256 (a database dump must not let anyone enroll) with the backend's own expiry.
import { createHash, randomUUID } from 'node:crypto';
import { newToken } from '../auth/passwords.ts';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import {
  assetTagProblem,
  deviceKind,
  MAX_COLLECTED_DATA,
  osTypeProblem,
  type DeviceCollectedData,
  type DeviceOsType,
  type DeviceResource,
  type DeviceSource,
  type DeviceSpec,
} from '../resources/device.ts';
import { validateKind } from '../resources/validate.ts';
import type { Backend, BatchOp } from '../storage/backend.ts';
import { ResourceStore, type Resource } from '../storage/resources.ts';
import { AssetTagClaims, type TagOwner } from './asset-tag-claims.ts';
import { asClaimError, CredentialIndex, credentialIdOf } from './credential-index.ts';

export const DEFAULT_ENROLL_TOKEN_TTL_MS = 60 * 60 * 1000;
const TOKEN_PREFIX = '/device_tokens/';
// Spent tokens leave a tombstone so a second use says "already used", not "unknown".
const SPENT_PREFIX = '/device_tokens_spent/';
const SPENT_MEMORY_MS = 24 * 60 * 60 * 1000;
// A token's record outlives the token by as long, so a late try says "expired", not "unknown"
// (the storage drops an item at its `expires`; the token's own expiry is in the record).
const EXPIRED_MEMORY_MS = SPENT_MEMORY_MS;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export type StoredDevice = Resource<DeviceSpec> & { kind: 'device'; version: 'v1' };

export interface NewDevice {
  assetTag: string;
  osType: string;
  source?: DeviceSource;
  owner?: string;
  /** The admin's binding to one TPM (spec.ek_key_hash); only that EK can enroll. */
  ekKeyHash?: string;
}

export interface EnrollToken {
  token: string;
  expires: Date;
  deviceId: string;
}

interface TokenRecord {
  device_id: string;
  expires: string;
}

export function hashEnrollToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function deviceStore(backend: Backend): ResourceStore<DeviceSpec> {
  return new ResourceStore<DeviceSpec>(backend, {
    kind: 'device',
    validate: (r) => validateKind(deviceKind, r) as never,
  });
}

function label(d: { spec: { asset_tag: string; os_type: string } }): string {
  return `"${d.spec.asset_tag}"/${d.spec.os_type}`;
}

function owner(d: DeviceResource): TagOwner {
  return { id: d.metadata.name, assetTag: d.spec.asset_tag, osType: d.spec.os_type };
}

export class DeviceInventory {
  readonly store: ResourceStore<DeviceSpec>;
  readonly #backend: Backend;
  readonly #now: () => Date;
  readonly #claims: AssetTagClaims;
  readonly #credentials: CredentialIndex;

  constructor(backend: Backend, options: { now?: () => Date } = {}) {
    this.#backend = backend;
    this.store = deviceStore(backend);
    this.#now = options.now ?? (() => new Date());
    this.#claims = new AssetTagClaims(backend, async (id) => {
      const d = await this.store.find(id);
      return d ? owner(d as StoredDevice) : undefined;
    });
    this.#credentials = new CredentialIndex(backend, async (id) => {
      const d = await this.store.find(id);
      return d ? { id, credentialId: credentialIdOf(d), label: label(d) } : undefined;
    });
  }

  /** A fresh device record (not stored), for add() and for API creates that omit the id. */
  build(device: NewDevice): DeviceResource {
    const osProblem = osTypeProblem(device.osType);
    if (osProblem) throw new GatehouseError(ErrorCode.BAD_REQUEST, osProblem);
    const tagProblem = assetTagProblem(device.assetTag);
    if (tagProblem) throw new GatehouseError(ErrorCode.BAD_REQUEST, tagProblem);
    const now = this.#now().toISOString();
    const spec: DeviceSpec = {
      asset_tag: device.assetTag,
      os_type: device.osType as DeviceOsType,
      enroll_status: 'not_enrolled',
      collected_data: [],
      source: device.source ?? 'api',
      create_time: now,
      update_time: now,
    };
    if (device.owner !== undefined) spec.owner = device.owner;
    if (device.ekKeyHash) spec.ek_key_hash = device.ekKeyHash;
    return validateKind(deviceKind, { kind: 'device', version: 'v1', metadata: { name: randomUUID() }, spec });
  }

  async add(device: NewDevice): Promise<StoredDevice> {
    return this.create(this.build(device));
  }

  /** Stores a complete record; ALREADY_EXISTS when its asset tag is taken for its OS (its claim key decides, no scan). */
  async create(device: DeviceResource): Promise<StoredDevice> {
    const indexOps = await this.#credentials.ops(device);
    // One transaction: a crash can no longer leave a claim without its device (or the reverse).
    const [, item] = await this.#claims
      .claim(owner(device), [this.store.createWrite(device), ...indexOps])
      .catch((e: unknown) => {
        throw asClaimError(e, 2, indexOps.length);
      });
    return this.store.fromItem(item!) as StoredDevice;
  }

  async list(): Promise<StoredDevice[]> {
    return (await this.store.list()) as StoredDevice[];
  }

  /**
   * The device holding this attestation credential (any enroll status), read fresh: one read of
   * the credential's index key and one of the record it names (device authentication asks at
   * every login, so this must not grow with the inventory). A key whose device no longer holds
   * the credential counts as none.
   */
  async findByCredential(credentialId: string): Promise<StoredDevice | undefined> {
    if (!credentialId) return undefined;
    const id = await this.#credentials.lookup(credentialId);
    if (!id) return undefined;
    const device = (await this.store.find(id)) as StoredDevice | undefined;
    return device && credentialIdOf(device) === credentialId ? device : undefined;
  }

  /** By id, or by asset tag (any OS); NOT_FOUND / BAD_REQUEST when a tag is ambiguous. */
  async find(idOrAssetTag: string): Promise<StoredDevice | undefined> {
    if (UUID.test(idOrAssetTag)) {
      const byId = await this.store.find(idOrAssetTag);
      if (byId) return byId as StoredDevice;
    }
    const matches = (await this.list()).filter((d) => d.spec.asset_tag === idOrAssetTag);
    if (matches.length > 1) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `asset tag "${idOrAssetTag}" is registered for several OSes (${matches
          .map((d) => d.spec.os_type)
          .sort()
          .join(', ')}); use the device id`,
      );
    }
    return matches[0];
  }

  async findByAssetTag(assetTag: string, osType?: DeviceOsType): Promise<StoredDevice | undefined> {
    return (await this.list()).find((d) => d.spec.asset_tag === assetTag && (!osType || d.spec.os_type === osType));
  }

  async get(idOrAssetTag: string): Promise<StoredDevice> {
    const found = await this.find(idOrAssetTag);
    if (!found) {
      throw new GatehouseError(
        ErrorCode.NOT_FOUND,
        `no device with id or asset tag "${idOrAssetTag}"; see \`gatectl devices ls\``,
      );
    }
    return found;
  }

  async remove(idOrAssetTag: string): Promise<StoredDevice> {
    const device = await this.get(idOrAssetTag);
    await this.store.delete(device.metadata.name);
    // A crash before these releases leaves stale keys, which the next claimant takes over.
    await this.#claims.release(owner(device));
    await this.#credentials.release(device);
    return device;
  }

  /**
   * Read-modify-write of one device (CONFLICT if it changed meanwhile). Unenrolling drops the
   * credential, the asset tag stays unique, and update_time and the snapshot cap are kept.
   */
  async update(
    idOrAssetTag: string,
    change: (spec: DeviceSpec) => DeviceSpec,
    alsoWrite: readonly BatchOp[] = [],
  ): Promise<StoredDevice> {
    const current = await this.get(idOrAssetTag);
    const next = this.normalise({ ...current, spec: change(structuredClone(current.spec)) }, current);
    return this.#replace(next, current, alsoWrite);
  }

  /**
   * The storage the records are in: writes for another store in the same storage can ride a
   * device's transaction (update's `alsoWrite`, e.g. the audit events of a device authentication).
   */
  get storage(): Backend {
    return this.#backend;
  }

  /**
   * Writes a changed record (CAS on its revision), moving the tag claim when the tag changes;
   * `alsoWrite` in the same transaction, after the record's own writes.
   */
  async #replace(
    next: StoredDevice,
    previous: StoredDevice,
    alsoWrite: readonly BatchOp[] = [],
  ): Promise<StoredDevice> {
    const retagged = next.spec.asset_tag !== previous.spec.asset_tag || next.spec.os_type !== previous.spec.os_type;
    // The credential's index key moves in the record's own transaction (credential-index.ts).
    const indexOps = await this.#credentials.ops(next, previous);
    const writes = [this.store.updateWrite(next), ...indexOps, ...alsoWrite];
    if (!retagged && writes.length === 1) return (await this.store.update(next)) as StoredDevice;
    if (!retagged) {
      const [item] = await this.#backend.batch(writes).catch((e: unknown) => {
        throw asClaimError(e, 1, indexOps.length);
      });
      return this.store.fromItem(item!) as StoredDevice;
    }
    const [, item] = await this.#claims.claim(owner(next), writes).catch((e: unknown) => {
      throw asClaimError(e, 2, indexOps.length);
    });
    const written = this.store.fromItem(item!) as StoredDevice;
    // A crash before this release leaves a stale claim, which the next claimant takes over.
    await this.#claims.release(owner(previous));
    return written;
  }

  /** Rules every write of a device follows, for update() and for generic API writes. */
  normalise<D extends DeviceResource | StoredDevice>(device: D, previous?: DeviceResource): D {
    const spec = { ...device.spec };
    if (spec.enroll_status === 'not_enrolled') delete spec.credential;
    if (spec.collected_data.length > MAX_COLLECTED_DATA)
      spec.collected_data = spec.collected_data.slice(-MAX_COLLECTED_DATA);
    if (previous) spec.create_time = previous.spec.create_time;
    spec.update_time = this.#now().toISOString();
    return { ...device, spec };
  }

  /**
   * Marks a device enrolled with `credential` (a compare-and-swap on its revision, re-read on a
   * lost race). Refuses with ALREADY_EXISTS when the record already holds this credential
   * enrolled: two ceremonies of one device on two auth servers both pass every check before their
   * writes, and the database, not an earlier read, decides which one of them enrolled it.
   */
  async enroll(deviceId: string, change: (spec: DeviceSpec) => DeviceSpec): Promise<StoredDevice> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.update(deviceId, (spec) => {
          const next = change(spec);
          const held = spec.enroll_status === 'enrolled' ? spec.credential?.id : undefined;
          if (held && held === next.credential?.id) throw alreadyEnrolledWith(spec);
          return next;
        });
      } catch (e) {
        if (!isGatehouseError(e) || e.code !== ErrorCode.CONFLICT || attempt >= ENROLL_WRITE_ATTEMPTS) throw e;
      }
    }
  }

  /** Appends a snapshot, keeping the newest MAX_COLLECTED_DATA. */
  async recordCollectedData(idOrAssetTag: string, data: DeviceCollectedData): Promise<StoredDevice> {
    return this.update(idOrAssetTag, (spec) => ({ ...spec, collected_data: [...spec.collected_data, data] }));
  }

  /**
   * Hooks for the generic resource API (`gatectl create/get/edit/rm device/...`), so the same
   * rules hold there: a server-made id, unique asset tags, lookup by asset tag, unenroll clears.
   */
  resourceHooks() {
    return {
      prepareCreate: (doc: Record<string, unknown>): void => {
        const meta = (doc['metadata'] ??= {}) as Record<string, unknown>;
        if (meta && typeof meta === 'object' && meta['name'] === undefined) meta['name'] = randomUUID();
        const spec = doc['spec'];
        if (!spec || typeof spec !== 'object' || Array.isArray(spec)) return;
        const now = this.#now().toISOString();
        const defaults = {
          enroll_status: 'not_enrolled',
          collected_data: [],
          source: 'api',
          create_time: now,
          update_time: now,
        };
        for (const [k, v] of Object.entries(defaults)) (spec as Record<string, unknown>)[k] ??= v;
      },
      resolveName: async (name: string): Promise<string> => (await this.get(name)).metadata.name,
      create: async (resource: Resource<unknown>): Promise<Resource<unknown>> =>
        this.create(this.normalise(resource as StoredDevice)),
      update: async (resource: Resource<unknown>): Promise<Resource<unknown>> => {
        const device = resource as StoredDevice;
        const previous = (await this.store.get(device.metadata.name)) as StoredDevice;
        return this.#replace(this.normalise(device, previous), previous);
      },
    };
  }

  async createEnrollToken(idOrAssetTag: string, ttlMs = DEFAULT_ENROLL_TOKEN_TTL_MS): Promise<EnrollToken> {
    const device = await this.get(idOrAssetTag);
    const { op, token } = this.#tokenWrite(device.metadata.name, ttlMs);
    await this.#backend.batch([op]);
    return token;
  }

  /**
   * Adds a device and makes its enroll token in one transaction (`gatectl devices add --enroll`):
   * a crash between the two used to leave a device nobody had a token for.
   */
  async addWithEnrollToken(device: NewDevice, ttlMs = DEFAULT_ENROLL_TOKEN_TTL_MS): Promise<EnrollToken> {
    const record = this.build(device);
    const { op, token } = this.#tokenWrite(record.metadata.name, ttlMs);
    await this.#claims.claim(owner(record), [this.store.createWrite(record), op]);
    return token;
  }

  #tokenWrite(deviceId: string, ttlMs: number): { op: BatchOp; token: EnrollToken } {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `enroll token TTL must be positive, got ${ttlMs} ms`);
    }
    // Hex like the cluster's other one-time tokens: a base64url token may start with "-", which
    // command lines read as an option.
    const token = newToken();
    const expires = new Date(this.#now().getTime() + ttlMs);
    const record: TokenRecord = { device_id: deviceId, expires: expires.toISOString() };
    const item = {
      key: TOKEN_PREFIX + hashEnrollToken(token),
      value: JSON.stringify(record),
      expires: new Date(expires.getTime() + EXPIRED_MEMORY_MS),
    };
    return { op: { type: 'create', item }, token: { token, expires, deviceId } };
  }

  /**
   * Spends a token (single use, even if what follows fails) and returns its device id.
   * BAD_CREDENTIALS for unknown, expired or used tokens, each with its own advice.
   */
  async spendEnrollToken(token: string): Promise<string> {
    if (typeof token !== 'string' || token === '') {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, 'an enroll token is required');
    }
    const hash = hashEnrollToken(token);
    const key = TOKEN_PREFIX + hash;
    const item = await this.#backend.get(key);
    const fresh = 'ask an admin for a new one (`gatectl devices enroll`)';
    if (!item) {
      if (await this.#backend.get(SPENT_PREFIX + hash)) {
        throw new GatehouseError(ErrorCode.BAD_CREDENTIALS, `this enroll token was already used; ${fresh}`, {
          reason: 'used',
        });
      }
      throw new GatehouseError(ErrorCode.BAD_CREDENTIALS, `unknown or expired enroll token; ${fresh}`, {
        reason: 'unknown',
      });
    }
    const record = JSON.parse(item.value) as TokenRecord;
    const now = this.#now();
    const tombstone = {
      key: SPENT_PREFIX + hash,
      value: JSON.stringify({ device_id: record.device_id, spent: now.toISOString() }),
      expires: new Date(now.getTime() + SPENT_MEMORY_MS),
    };
    // The delete is the atomic step: of two concurrent spenders only one deletes the item. The
    // tombstone commits with it, so a crash cannot turn "already used" into "unknown".
    try {
      await this.#backend.batch([
        { type: 'delete', key },
        { type: 'put', item: tombstone },
      ]);
    } catch (e) {
      if (isGatehouseError(e) && e.code === ErrorCode.NOT_FOUND) {
        throw new GatehouseError(ErrorCode.BAD_CREDENTIALS, `this enroll token was already used; ${fresh}`, {
          reason: 'used',
        });
      }
      throw e;
    }
    if (Date.parse(record.expires) <= now.getTime()) {
      throw new GatehouseError(ErrorCode.BAD_CREDENTIALS, `this enroll token expired at ${record.expires}; ${fresh}`, {
        reason: 'expired',
      });
    }
    return record.device_id;
  }
}

/** Re-reads after a lost compare-and-swap: each concurrent writer of one device can cost one. */
const ENROLL_WRITE_ATTEMPTS = 3;

export function alreadyEnrolledWith(spec: DeviceSpec): GatehouseError {
  return new GatehouseError(
    ErrorCode.ALREADY_EXISTS,
    `device "${spec.asset_tag}"/${spec.os_type} is already enrolled with this attestation key ` +
      `(since ${spec.credential?.enroll_time ?? 'an earlier enrollment'}); it needs no second enrollment`,
    { reason: 'already_enrolled' },
  );
}
