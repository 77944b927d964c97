// Asset tags are unique per OS. A scan of the inventory cannot guarantee that on its own: two
// admins adding the same tag at once would both see it free. So each tag is also claimed with an
// atomic create of a key naming its device; the second writer's create fails. A claim whose
// device is gone or now has another tag (removed through the generic resource API, renamed by an
// older version) is stale and taken over with compare-and-swap.
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { Backend, BatchOp, Item } from '../storage/backend.ts';

const CLAIM_PREFIX = '/device_asset_tags/';

export interface TagOwner {
  id: string;
  assetTag: string;
  osType: string;
}

export function claimKey(osType: string, assetTag: string): string {
  return `${CLAIM_PREFIX}${osType}/${encodeURIComponent(assetTag)}`;
}

/** True when the batch failed on its first op (the claim) with `code`, not on a write that came with it. */
function claimFailed(e: unknown, code: ErrorCode): boolean {
  return isGatehouseError(e) && e.code === code && (e.details?.['op'] ?? 0) === 0;
}

export class AssetTagClaims {
  readonly #backend: Backend;
  /** Looks up a device by id, to tell a live claim from a stale one. */
  readonly #find: (id: string) => Promise<TagOwner | undefined>;

  constructor(backend: Backend, find: (id: string) => Promise<TagOwner | undefined>) {
    this.#backend = backend;
    this.#find = find;
  }

  /**
   * Claims the device's tag for it; ALREADY_EXISTS naming the holder when another live device has
   * it. `alongside` (the device record itself) commits in the same transaction as the claim, so a
   * crash can leave neither a device without its claim nor a claim without its device.
   */
  async claim(owner: TagOwner, alongside: BatchOp[] = []): Promise<(Item | undefined)[]> {
    const key = claimKey(owner.osType, owner.assetTag);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return await this.#backend.batch([{ type: 'create', item: { key, value: owner.id } }, ...alongside]);
      } catch (e) {
        if (!claimFailed(e, ErrorCode.ALREADY_EXISTS)) throw e;
      }
      const held = await this.#backend.get(key);
      if (!held) continue;
      const holder = held.value === owner.id ? undefined : await this.#find(held.value);
      if (holder && holder.assetTag === owner.assetTag && holder.osType === owner.osType) {
        throw new GatehouseError(
          ErrorCode.ALREADY_EXISTS,
          `device "${owner.assetTag}"/${owner.osType} already exists (id ${holder.id}); remove it first or use another asset tag`,
        );
      }
      // Ours already (a retagged device) or stale: take it over together with the writes.
      try {
        const item = { key, value: owner.id };
        return await this.#backend.batch([
          { type: 'compareAndSwap', expected: { key, revision: held.revision }, item },
          ...alongside,
        ]);
      } catch (e) {
        if (!claimFailed(e, ErrorCode.CONFLICT)) throw e;
      }
    }
    throw new GatehouseError(
      ErrorCode.CONFLICT,
      `asset tag "${owner.assetTag}" is being changed concurrently; try again`,
    );
  }

  /** Drops the claim if it is still this device's (a later owner's claim stays). */
  async release(owner: TagOwner): Promise<void> {
    const key = claimKey(owner.osType, owner.assetTag);
    const held = await this.#backend.get(key);
    if (!held || held.value !== owner.id) return;
    await this.#backend.delete(key).catch((e: unknown) => {
      if (!isGatehouseError(e) || e.code !== ErrorCode.NOT_FOUND) throw e;
    });
  }
}
