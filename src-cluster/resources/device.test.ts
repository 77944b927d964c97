import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatehouseError } from '../../src-shared/errors.ts';
import { createDefaultRegistry, isDevice } from './kinds.ts';
import { parseResources } from './parse.ts';
import { toText, toYaml } from './print.ts';
import { osTypeProblem } from './device.ts';

const registry = createDefaultRegistry();
const ID = '0b7f1c2e-3d4a-4b5c-8d9e-0f1a2b3c4d5e';

function doc(spec: string, name = ID): string {
  return `kind: device\nversion: v1\nmetadata: {name: ${name}}\nspec:\n${spec}`;
}
const base =
  '  asset_tag: C02XYZ\n  os_type: linux\n  enroll_status: not_enrolled\n  collected_data: []\n  source: api\n' +
  '  create_time: 2026-01-01T00:00:00Z\n  update_time: 2026-01-01T00:00:00Z\n';

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatehouseError);
    return e.message;
  }
  assert.fail('expected an error');
}

test('a device parses, is registered and prints its columns', () => {
  const [device] = parseResources(doc(base), registry);
  assert.ok(device && isDevice(device));
  assert.equal(device.spec.asset_tag, 'C02XYZ');
  assert.ok(registry.find('devices'));
  const table = toText([device], registry);
  assert.match(table, /ASSET TAG\s+OS\s+ENROLL STATUS\s+DEVICE ID/);
  assert.match(table, new RegExp(`C02XYZ\\s+linux\\s+not_enrolled\\s+${ID}`));
  assert.match(toYaml(device), /asset_tag: C02XYZ/);
});

test('an enrolled device with a credential and snapshots parses', () => {
  const spec =
    base
      .replace('not_enrolled', 'enrolled')
      .replace(
        'collected_data: []',
        'collected_data:\n    - {collect_time: 2026-01-01T00:00:00Z, os_type: linux, serial_number: C02XYZ, hostname: h}',
      ) + '  credential: {id: abc, public_key: "AAEACw==", attestation_type: ekcert_trusted, ek_cert_serial: "01"}\n';
  const [device] = parseResources(doc(spec), registry);
  assert.ok(device && isDevice(device));
  assert.equal(device.spec.credential?.attestation_type, 'ekcert_trusted');
  assert.equal(device.spec.collected_data[0]?.hostname, 'h');
});

test('device field errors name the field, the allowed values and the line', () => {
  assert.equal(
    message(() => parseResources(doc(base.replace('os_type: linux', 'os_type: beos')), registry)),
    `device "${ID}": spec.os_type: expected one of: linux, macos, windows (line 6)`,
  );
  assert.equal(
    message(() =>
      parseResources(doc(base.replace('enroll_status: not_enrolled', 'enroll_status: enrolled')), registry),
    ),
    `device "${ID}": spec.enroll_status: an enrolled device needs a credential; enroll it with a token instead of editing (line 7)`,
  );
  assert.match(
    message(() => parseResources(doc(base, 'laptop-1'), registry)),
    /metadata.name: a device name is its id: a lowercase uuid made by the server \(line 3\)/,
  );
  assert.match(
    message(() => parseResources(doc(`${base}  colour: red\n`), registry)),
    /spec.colour: unknown field; allowed fields: asset_tag, os_type, enroll_status, credential, ek_key_hash, collected_data, source, owner, create_time, update_time \(line 12\)/,
  );
  assert.match(
    message(() => parseResources(doc(base.replace('source: api', 'source: sccm')), registry)),
    /spec.source: expected one of: api, jamf, intune/,
  );
  assert.match(
    message(() => parseResources(doc(base.replace('asset_tag: C02XYZ', 'asset_tag: " x"')), registry)),
    /spec.asset_tag: asset tag " x" has leading or trailing spaces/,
  );
  const eleven = Array.from(
    { length: 11 },
    () => '    - {collect_time: 2026-01-01T00:00:00Z, os_type: linux, serial_number: s}\n',
  ).join('');
  assert.match(
    message(() =>
      parseResources(doc(base.replace('  collected_data: []\n', `  collected_data:\n${eleven}`)), registry),
    ),
    /spec.collected_data: at most 10 snapshots are kept/,
  );
});

test('osTypeProblem lists the allowed values', () => {
  assert.equal(osTypeProblem('macos'), undefined);
  assert.equal(osTypeProblem('ubuntu'), 'unknown OS "ubuntu"; allowed: linux, macos, windows');
});
