import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, isGatehouseError } from '../../src-shared/errors.ts';
import type { DeviceResource } from '../resources/device.ts';
import { decodeDeviceRows, deviceRow, encodeDeviceRows, enrollStatusText, type DeviceRow } from './device-rows.ts';

function device(spec: Partial<DeviceResource['spec']>): DeviceResource {
  return {
    kind: 'device',
    version: 'v1',
    metadata: { name: '3fbc1e38-a0e4-439d-90be-75848875371c' },
    spec: {
      asset_tag: 'LAPTOP-1',
      os_type: 'linux',
      enroll_status: 'not_enrolled',
      collected_data: [],
      source: 'api',
      create_time: '2026-12-07T00:00:00.000Z',
      update_time: '2026-12-07T00:00:00.000Z',
      ...spec,
    },
  };
}

const credential = {
  id: 'cred-1',
  public_key: 'AAAA',
  attestation_type: 'ekpub' as const,
  ek_key_hash: 'a'.repeat(64),
};
const ekpubAllowed = { ekpubAllowed: true, ekCertAllowedCas: [] };
const ekpubRefused = { ekpubAllowed: false, ekCertAllowedCas: [] };
const now = new Date('2026-12-07T12:00:00Z');

test('a device not enrolled is its status, whatever the policy', () => {
  const row = deviceRow(device({}), ekpubRefused, now);
  assert.deepEqual(row, ['3fbc1e38-a0e4-439d-90be-75848875371c', 'LAPTOP-1', 'linux', 'not_enrolled', '']);
  assert.equal(enrollStatusText(row), 'not_enrolled');
});

test('an enrolled device the policy accepts is "enrolled"; one it no longer accepts says why', () => {
  const enrolled = device({ enroll_status: 'enrolled', credential });
  assert.equal(enrollStatusText(deviceRow(enrolled, ekpubAllowed, now)), 'enrolled');
  const refused = deviceRow(enrolled, ekpubRefused, now);
  assert.equal(refused[4], 'ekpub not allowed');
  assert.equal(enrollStatusText(refused), 'enrolled (fails policy: ekpub not allowed)');
  // Bound by an admin to another TPM: refused even where EK public keys are allowed.
  const bound = device({ enroll_status: 'enrolled', credential, ek_key_hash: 'b'.repeat(64) });
  assert.equal(enrollStatusText(deviceRow(bound, ekpubAllowed, now)), 'enrolled (fails policy: ek key mismatch)');
});

test('rows survive the wire as sent; columns a later server appends are ignored', () => {
  const rows: DeviceRow[] = [
    ['id-1', 'Tag "quoted" ünïcode', 'macos', 'enrolled', 'ekcert required'],
    ['id-2', 'B', 'windows', 'not_enrolled', ''],
  ];
  assert.deepEqual(decodeDeviceRows(encodeDeviceRows(rows)), rows);
  const wider = new TextEncoder().encode(JSON.stringify([[...rows[0]!, 'a later column']]));
  assert.deepEqual(decodeDeviceRows(wider)[0]!.slice(0, 5), rows[0]);
});

test('anything but rows of strings is refused with INTERNAL, not printed', () => {
  for (const text of ['not json', '{}', '[["id", "tag", "linux", "enrolled"]]', '[["id", "tag", "linux", 1, ""]]']) {
    assert.throws(
      () => decodeDeviceRows(new TextEncoder().encode(text)),
      (e: unknown) => isGatehouseError(e) && e.code === ErrorCode.INTERNAL,
      text,
    );
  }
});
