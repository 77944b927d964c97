// Asset tags are unique per OS. A scan of the inventory cannot guarantee that on its own: two
// admins adding the same tag at once would both see it free. So each tag is also claimed with an
// atomic create of a key naming its device; the second writer's create fails. A claim whose
// device is gone or now has another tag (removed through the generic resource API, renamed by an
// older version) is stale and taken over with compare-and-swap.
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { Backend } from '../storage/backend.ts';

const CLAIM_PREFIX = '/device_asset_tags/';

export interface TagOwner {
  id: string;
  assetTag: string;
  osType: string;
}

export function claimKey(osType: string, assetTag: string): string {
  return `${CLAIM_PREFIX}${osType}/${encodeURIComponent(assetTag)}`;
}

export class AssetTagClaims {
  readonly #backend: Backend;
  /** Looks up a device by id, to tell a live claim from a stale one. */
  readonly #find: (id: string) => Promise<TagOwner | undefined>;

  constructor(backend: Backend, find: (id: string) => Promise<TagOwner | undefined>) {
    this.#backend = backend;
    this.#find = find;
  }

  /** Claims the device's tag for it; ALREADY_EXISTS naming the holder when another live device has it. */
  async claim(owner: TagOwner): Promise<void> {
    const key = claimKey(owner.osType, owner.assetTag);
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await this.#backend.create({ key, value: owner.id });
        return;
      } catch (e) {
        if (!isGatehouseError(e) || e.code !== ErrorCode.ALREADY_EXISTS) throw e;
      }
      const held = await this.#backend.get(key);
      if (!held) continue;
      if (held.value === owner.id) return;
      const holder = await this.#find(held.value);
      if (holder && holder.assetTag === owner.assetTag && holder.osType === owner.osType) {
        throw new GatehouseError(
          ErrorCode.ALREADY_EXISTS,
          `device "${owner.assetTag}"/${owner.osType} already exists (id ${holder.id}); remove it first or use another asset tag`,
        );
      }
      try {
        await this.#backend.compareAndSwap({ key, revision: held.revision }, { key, value: owner.id });
        return;
      } catch (e) {
        if (!isGatehouseError(e) || e.code !== ErrorCode.CONFLICT) throw e;
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
