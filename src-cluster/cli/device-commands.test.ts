// `gatectl devices ls` gets its rows from ListDeviceRows, and from a server older than that call
// (Connect's Unimplemented, see admin-client.ts) makes the same rows itself from the records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { encodeDeviceRows, type DeviceRow } from '../devicetrust/device-rows.ts';
import { UNIMPLEMENTED_DETAIL } from './admin-client.ts';
import { deviceRows, type DeviceListClient } from './device-commands.ts';

const credential = { id: 'cred-1', public_key: 'AAAA', attestation_type: 'ekpub', ek_key_hash: 'a'.repeat(64) };
const records = [
  {
    kind: 'device',
    version: 'v1',
    metadata: { name: 'id-1', revision: 3 },
    spec: { asset_tag: 'A', os_type: 'linux', enroll_status: 'not_enrolled', collected_data: [], source: 'api' },
  },
  {
    kind: 'device',
    version: 'v1',
    metadata: { name: 'id-2', revision: 4 },
    spec: {
      asset_tag: 'B',
      os_type: 'macos',
      enroll_status: 'enrolled',
      credential,
      collected_data: [],
      source: 'api',
    },
  },
];
const cap = {
  kind: 'cluster_auth_preference',
  version: 'v2',
  metadata: { name: 'cluster-auth-preference' },
  spec: { device_trust: { mode: 'optional', auto_enroll: false, ekcert_allowed_cas: [], ekpub_allowed: false } },
};
const expected: DeviceRow[] = [
  ['id-1', 'A', 'linux', 'not_enrolled', ''],
  ['id-2', 'B', 'macos', 'enrolled', 'ekpub not allowed'],
];

const unimplemented = () =>
  Promise.reject(new GatehouseError(ErrorCode.INTERNAL, 'no such call', { [UNIMPLEMENTED_DETAIL]: 'listDeviceRows' }));

function olderServer(asJsonArray: boolean): DeviceListClient {
  return {
    listDeviceRows: unimplemented,
    listResources: async () => ({
      $typeName: 'gatehouse.v1.ListResourcesResponse',
      resourcesJson: asJsonArray ? [] : records.map((r) => JSON.stringify(r)),
      resourcesJsonArray: asJsonArray ? new TextEncoder().encode(JSON.stringify(records)) : new Uint8Array(),
    }),
    getResource: async () => ({ $typeName: 'gatehouse.v1.GetResourceResponse', resourceJson: JSON.stringify(cap) }),
  } as DeviceListClient;
}

test('the rows come from ListDeviceRows when the server has it', async () => {
  const refuse = () => Promise.reject(new Error('only ListDeviceRows should be called'));
  const client = {
    listDeviceRows: async () => ({
      $typeName: 'gatehouse.v1.ListDeviceRowsResponse',
      rowsJson: encodeDeviceRows(expected),
    }),
    listResources: refuse,
    getResource: refuse,
  } as DeviceListClient;
  assert.deepEqual(await deviceRows(client), expected);
});

test('a server without ListDeviceRows: the same rows from its records and policy, in both older answer shapes', async () => {
  assert.deepEqual(await deviceRows(olderServer(true)), expected);
  assert.deepEqual(await deviceRows(olderServer(false)), expected);
});

test("any other failure of ListDeviceRows is the command's error, not a fallback", async () => {
  const denied = new GatehouseError(ErrorCode.ACCESS_DENIED, 'no list on device');
  const client = { ...olderServer(true), listDeviceRows: () => Promise.reject(denied) } as DeviceListClient;
  await assert.rejects(deviceRows(client), denied);
});
