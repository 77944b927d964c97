import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatehouseError } from '../../src-shared/errors.ts';
import { createCertAuthority } from '../auth/x509.ts';
import { createDefaultRegistry, isClusterAuthPreference } from './kinds.ts';
import { parseResources } from './parse.ts';
import { toText, toYaml } from './print.ts';
import { newClusterAuthPreference, pemCertificateProblem } from './cluster-auth-preference.ts';

const registry = createDefaultRegistry();
let pem = '';
before(async () => {
  pem = (await createCertAuthority('EK Test CA', 'test')).certPem;
});

function doc(spec: string, head = 'version: v2\nmetadata:\n  name: cluster-auth-preference\n'): string {
  return `kind: cluster_auth_preference\n${head}spec:\n${spec}`;
}

function message(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof GatehouseError);
    return e.message;
  }
  assert.fail('expected an error');
}

test('a full preference parses, keeps its values and prints them back', () => {
  const text = doc(
    `  type: local\n  second_factor: otp\n  device_trust:\n    mode: required-for-humans\n    auto_enroll: true\n    ekpub_allowed: false\n` +
      `    ekcert_allowed_cas:\n      - |\n${pem
        .trimEnd()
        .split('\n')
        .map((l) => `        ${l}`)
        .join('\n')}\n`,
  );
  const [cap] = parseResources(text, registry);
  assert.ok(cap && isClusterAuthPreference(cap));
  assert.equal(cap.spec.second_factor, 'otp');
  assert.deepEqual(
    { ...cap.spec.device_trust, ekcert_allowed_cas: cap.spec.device_trust.ekcert_allowed_cas.length },
    { mode: 'required-for-humans', auto_enroll: true, ekcert_allowed_cas: 1, ekpub_allowed: false },
  );
  assert.equal(cap.spec.device_trust.ekcert_allowed_cas[0]!.trim(), pem.trim());
  // Printed YAML reads back to the same resource (what `gatectl edit` relies on).
  assert.deepEqual(parseResources(toYaml(cap), registry), [cap]);
  assert.match(toText([cap], registry), /SECOND FACTOR\s+DEVICE TRUST\s+AUTO ENROLL\s+EK CAS\s+EKPUB ALLOWED\s+ORIGIN/);
});

test('missing fields get the defaults: local, second factor off, device trust optional', () => {
  const [cap] = parseResources(doc('  {}\n').replace('spec:\n  {}', 'spec: {}'), registry);
  assert.deepEqual(cap!.spec, {
    type: 'local',
    second_factor: 'off',
    // ekpub_allowed defaults to true: Teleport-compatible EK-public-only enrollment.
    device_trust: { mode: 'optional', auto_enroll: false, ekcert_allowed_cas: [], ekpub_allowed: true },
    locking_mode: 'best_effort',
  });
  assert.deepEqual(newClusterAuthPreference().spec, cap!.spec);
  const [noSpec] = parseResources(
    'kind: cluster_auth_preference\nversion: v2\nmetadata: {name: cluster-auth-preference}\n',
    registry,
  );
  assert.deepEqual(noSpec!.spec, cap!.spec);
});

test('the CLI alias cap finds the kind and it is a singleton', () => {
  assert.equal(registry.find('cap')?.kind, 'cluster_auth_preference');
  assert.equal(registry.find('cap')?.singleton, 'cluster-auth-preference');
});

test('an unknown device trust mode names the field and the allowed modes', () => {
  assert.equal(
    message(() => parseResources(doc('  device_trust:\n    mode: strict\n'), registry)),
    'cluster_auth_preference "cluster-auth-preference": spec.device_trust.mode: expected one of: off, optional, required, required-for-humans (line 7)',
  );
});

test('an unknown second factor and type name the allowed values', () => {
  assert.equal(
    message(() => parseResources(doc('  second_factor: webauthn\n'), registry)),
    'cluster_auth_preference "cluster-auth-preference": spec.second_factor: expected one of: off, otp (line 6)',
  );
  assert.equal(
    message(() => parseResources(doc('  type: github\n'), registry)),
    'cluster_auth_preference "cluster-auth-preference": spec.type: expected one of: local (line 6)',
  );
});

test('a wrong version names the supported one', () => {
  assert.equal(
    message(() =>
      parseResources(
        doc('  second_factor: off\n', 'version: v1\nmetadata: {name: cluster-auth-preference}\n'),
        registry,
      ),
    ),
    'cluster_auth_preference version "v1" is not supported; supported: v2 (line 2)',
  );
});

test('misspelled fields are named with the allowed ones', () => {
  assert.equal(
    message(() => parseResources(doc('  second_factr: otp\n'), registry)),
    'cluster_auth_preference "cluster-auth-preference": spec.second_factr: unknown field; allowed fields: type, second_factor, device_trust, locking_mode (line 6)',
  );
  assert.equal(
    message(() => parseResources(doc('  device_trust:\n    auto_enrol: true\n'), registry)),
    'cluster_auth_preference "cluster-auth-preference": spec.device_trust.auto_enrol: unknown field; allowed fields: mode, auto_enroll, ekcert_allowed_cas, ekpub_allowed (line 7)',
  );
  assert.equal(
    message(() => parseResources(doc('  device_trust:\n    auto_enroll: yes\n'), registry)),
    'cluster_auth_preference "cluster-auth-preference": spec.device_trust.auto_enroll: expected true or false (line 7)',
  );
});

test('a bad PEM entry is named by its list index', () => {
  const text = doc(
    `  device_trust:\n    ekcert_allowed_cas:\n      - ${JSON.stringify(pem)}\n      - not a certificate\n`,
  );
  assert.equal(
    message(() => parseResources(text, registry)),
    'cluster_auth_preference "cluster-auth-preference": spec.device_trust.ekcert_allowed_cas[1]: expected one PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----) (line 9)',
  );
  const garbled = pem.replace(/\n[A-Za-z0-9+/]{10}/, '\nAAAAAAAAAA');
  assert.match(pemCertificateProblem(garbled) ?? '', /^not a valid X.509 certificate: /);
  assert.equal(pemCertificateProblem(pem), undefined);
  // Two certificates in one entry would hide the second from anyone reading the list.
  assert.match(pemCertificateProblem(pem + pem) ?? '', /expected one PEM certificate/);
});

test('any other name is refused with the one it must have', () => {
  assert.equal(
    message(() => parseResources(doc('  second_factor: off\n', 'version: v2\nmetadata:\n  name: my-cap\n'), registry)),
    'cluster_auth_preference "my-cap": metadata.name: cluster_auth_preference is a singleton: metadata.name must be "cluster-auth-preference", not "my-cap" (line 4)',
  );
});
