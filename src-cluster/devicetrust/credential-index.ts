// One enrolled device per attestation credential, enforced by the database: every credential id
// in a device record has an index key naming its device, created in the same transaction as the
// record, so of two enrollments of one AK into two devices (two auth servers at once) the second
// write fails on the key. The same key makes device authentication's lookup by credential id
// one read instead of a scan of the inventory. A key whose device no longer holds that
// credential (unenrolled by an older version, removed through the generic API) is stale and
// taken over with compare-and-swap.
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { Backend, BatchOp } from '../storage/backend.ts';
import type { DeviceResource } from '../resources/device.ts';

export const CREDENTIAL_PREFIX = '/device_credentials/';

export function credentialKey(credentialId: string): string {
  return CREDENTIAL_PREFIX + encodeURIComponent(credentialId);
}

/** The credential id a device record holds, if any (only enrolled records keep one). */
export function credentialIdOf(device: Pick<DeviceResource, 'spec'>): string | undefined {
  return device.spec.credential?.id || undefined;
}

/** Which device (id, label) holds a credential right now: read fresh, for staleness checks. */
export type CredentialHolder = (
  deviceId: string,
) => Promise<{ id: string; credentialId?: string; label: string } | undefined>;

export class CredentialIndex {
  readonly #backend: Backend;
  readonly #holder: CredentialHolder;

  constructor(backend: Backend, holder: CredentialHolder) {
    this.#backend = backend;
    this.#holder = holder;
  }

  /** The device id the index names for this credential (check the record still holds it). */
  async lookup(credentialId: string): Promise<string | undefined> {
    return (await this.#backend.get(credentialKey(credentialId)))?.value;
  }

  /**
   * The ops that move the index from `previous` (undefined for a new record) to `next`, to commit
   * with the record's own write. ALREADY_EXISTS naming the holder when another device holds the
   * credential now; a concurrent claimant makes the batch fail the same way (see asClaimError).
   */
  async ops(next: DeviceResource, previous?: DeviceResource): Promise<BatchOp[]> {
    const id = next.metadata.name;
    const want = credentialIdOf(next);
    const had = previous ? credentialIdOf(previous) : undefined;
    const ops: BatchOp[] = [];
    if (want && want !== had) {
      const key = credentialKey(want);
      const held = await this.#backend.get(key);
      if (!held) ops.push({ type: 'create', item: { key, value: id } });
      else if (held.value !== id) {
        const holder = await this.#holder(held.value);
        if (holder?.credentialId === want) throw alreadyEnrolled(holder.label);
        ops.push({ type: 'compareAndSwap', expected: { key, revision: held.revision }, item: { key, value: id } });
      }
    }
    if (had && had !== want) {
      const held = await this.#backend.get(credentialKey(had));
      if (held?.value === id) ops.push({ type: 'delete', key: held.key });
    }
    return ops;
  }

  /** Drops the index key of a removed device if it is still that device's. */
  async release(device: DeviceResource): Promise<void> {
    const want = credentialIdOf(device);
    if (!want) return;
    const held = await this.#backend.get(credentialKey(want));
    if (!held || held.value !== device.metadata.name) return;
    await this.#backend.delete(held.key).catch((e: unknown) => {
      if (!isGatehouseError(e) || e.code !== ErrorCode.NOT_FOUND) throw e;
    });
  }
}

export function alreadyEnrolled(label: string): GatehouseError {
  return new GatehouseError(
    ErrorCode.ALREADY_EXISTS,
    `this attestation key is already enrolled as device ${label}; unenroll that device first`,
    { reason: 'credential_enrolled' },
  );
}

/**
 * A batch that failed on one of `indexOps` (placed from `first` on) because another device's
 * claim got in first: the same refusal as when the holder was seen before writing.
 */
export function asClaimError(e: unknown, first: number, count: number): unknown {
  if (!isGatehouseError(e)) return e;
  const op = e.details?.['op'];
  if (typeof op !== 'number' || op < first || op >= first + count) return e;
  if (e.code !== ErrorCode.ALREADY_EXISTS && e.code !== ErrorCode.CONFLICT) return e;
  return alreadyEnrolled('(enrolled at the same time)');
}
