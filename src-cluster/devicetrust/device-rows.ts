// The rows of `gatectl devices ls`: made by the auth server (AuthService.ListDeviceRows) where
// the records and the attestation policy are, or by the CLI itself from the full records when the
// server is older than that call. One definition of the columns and the status text for both.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { DeviceResource } from '../resources/device.ts';
import { policyFailure, type AttestationPolicy } from './attestation-policy.ts';

/** One device as ListDeviceRows sends it (rows_json), in this column order. */
export type DeviceRow = [id: string, assetTag: string, osType: string, enrollStatus: string, policyFailure: string];

const COLUMNS = 5;

/** The row of one stored device; policy_failure judges an enrolled device under `policy` at `now`. */
export function deviceRow(device: DeviceResource, policy: AttestationPolicy, now: Date): DeviceRow {
  const { spec } = device;
  let failure = '';
  if (spec.enroll_status === 'enrolled' && spec.credential) {
    const subject = { credential: spec.credential, boundEkKeyHash: spec.ek_key_hash };
    failure = policyFailure(subject, policy, now)?.short ?? '';
  }
  return [device.metadata.name, spec.asset_tag, spec.os_type, spec.enroll_status, failure];
}

/** rows_json of a ListDeviceRows answer. */
export function encodeDeviceRows(rows: DeviceRow[]): Uint8Array {
  return Buffer.from(JSON.stringify(rows));
}

function isRow(value: unknown): value is DeviceRow {
  if (!Array.isArray(value) || value.length < COLUMNS) return false;
  for (let i = 0; i < COLUMNS; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

/** The rows in rows_json (columns a later server appends are ignored); INTERNAL when they are not rows. */
export function decodeDeviceRows(rowsJson: Uint8Array): DeviceRow[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(rowsJson));
  } catch (e) {
    throw new GatehouseError(ErrorCode.INTERNAL, `the server's device rows are not JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(parsed) || !parsed.every(isRow)) {
    throw new GatehouseError(ErrorCode.INTERNAL, `the server's device rows are not arrays of ${COLUMNS} strings`);
  }
  return parsed;
}

/** The Enroll Status column: "enrolled (fails policy: ekcert required)" for a device the policy no longer accepts. */
export function enrollStatusText(row: DeviceRow): string {
  return row[4] ? `${row[3]} (fails policy: ${row[4]})` : row[3];
}
