// Data migration "device-indexes-1": the keys that let the database enforce device uniqueness
// and find a device by credential in one read, backfilled for data written before they existed.
// Asset-tag claims (asset-tag-claims.ts) were never written for devices created before
// 2026-11-26, and credential index keys (credential-index.ts) are new: without this, a device
// enrolled earlier could not be found by its credential (device authentication would refuse it)
// and could be enrolled twice. Runs once per database at auth start (Backend.runDataMigration:
// one transaction, on PostgreSQL under the migrations' advisory lock). Where the old data breaks
// a rule the keys now enforce (two records with one tag, or one credential), the key goes to
// the oldest record and the others are logged for an administrator; nothing is deleted.
import type { Backend, BatchOp, DataMigration, Item } from '../storage/backend.ts';
import type { DeviceSpec } from '../resources/device.ts';
import { claimKey } from './asset-tag-claims.ts';
import { CREDENTIAL_PREFIX, credentialKey } from './credential-index.ts';

const DEVICE_PREFIX = '/devices/';
const CLAIM_PREFIX = '/device_asset_tags/';

export interface IndexConflict {
  key: string;
  kept: string;
  skipped: string;
}

interface DeviceRow {
  id: string;
  spec: Pick<DeviceSpec, 'asset_tag' | 'os_type' | 'credential' | 'create_time'>;
}

function devicesOf(items: Item[]): DeviceRow[] {
  const devices: DeviceRow[] = [];
  for (const item of items) {
    if (!item.key.startsWith(DEVICE_PREFIX)) continue;
    const doc = JSON.parse(item.value) as { metadata?: { name?: string }; spec?: DeviceRow['spec'] };
    if (!doc.spec || !doc.metadata?.name) continue;
    devices.push({ id: doc.metadata.name, spec: doc.spec });
  }
  // Oldest first: where old data has duplicates, the first registered keeps the key.
  return devices.sort(
    (a, b) => (a.spec.create_time ?? '').localeCompare(b.spec.create_time ?? '') || a.id.localeCompare(b.id),
  );
}

/** The creates that give every device its tag claim and credential key, skipping keys already present. */
export function planDeviceIndexes(items: Item[], conflicts: IndexConflict[] = []): BatchOp[] {
  const taken = new Map<string, string>();
  for (const item of items) if (!item.key.startsWith(DEVICE_PREFIX)) taken.set(item.key, item.value);
  const ops: BatchOp[] = [];
  const want = (key: string, id: string) => {
    const holder = taken.get(key);
    if (holder === undefined) {
      taken.set(key, id);
      ops.push({ type: 'create', item: { key, value: id } });
    } else if (holder !== id) conflicts.push({ key, kept: holder, skipped: id });
  };
  for (const d of devicesOf(items)) {
    want(claimKey(d.spec.os_type, d.spec.asset_tag), d.id);
    if (d.spec.credential?.id) want(credentialKey(d.spec.credential.id), d.id);
  }
  return ops;
}

export function deviceIndexMigration(conflicts: IndexConflict[] = []): DataMigration {
  return {
    id: 'device-indexes-1',
    description: 'backfill asset-tag claims and credential index keys of devices stored before they existed',
    prefixes: [DEVICE_PREFIX, CLAIM_PREFIX, CREDENTIAL_PREFIX],
    plan: (items) => planDeviceIndexes(items, conflicts),
  };
}

/** Runs the migration once per database; returns whether this call applied it, and any conflicts. */
export async function migrateDeviceIndexes(
  backend: Backend,
): Promise<{ applied: boolean; conflicts: IndexConflict[] }> {
  const conflicts: IndexConflict[] = [];
  const applied = await backend.runDataMigration(deviceIndexMigration(conflicts));
  return { applied, conflicts };
}
