// What a kind adds to the generic resource CRUD (api/resource-admin.ts): server-made fields,
// name lookups, cross-record writes, clean-up after delete. It lives here, below every service,
// because the services that own a kind (locks, auth's preference, devicetrust's inventory) supply
// these hooks and must not import the API layer that calls them.
import type { Resource as StoredResource } from '../storage/resources.ts';

/** Who makes the change, as far as a hook needs to know (the admin API passes the caller's identity). */
export interface ChangeAuthor {
  readonly user: string;
}

export interface KindHooks {
  /** Runs after a resource of this kind was deleted (e.g. drop a user's credentials). */
  afterDelete?: (name: string, by?: ChangeAuthor) => Promise<void>;
  /** Fills server-made fields (e.g. a device's id and timestamps, a lock's creator) before validation. */
  prepareCreate?: (doc: Record<string, unknown>, by?: ChangeAuthor) => void;
  /** Maps what a user typed (e.g. a device's asset tag) to the stored name. */
  resolveName?: (name: string) => Promise<string>;
  /** Replace the plain store writes when a kind has rules across records (unique asset tags). */
  create?: (resource: StoredResource) => Promise<StoredResource>;
  update?: (resource: StoredResource) => Promise<StoredResource>;
}
