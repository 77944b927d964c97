import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deviceTrustRequirement, isDeviceTrusted } from './device-trust-mode.ts';

const req = (clusterMode: string, roleModes: (string | undefined)[] = [], isBot = false) =>
  deviceTrustRequirement({ clusterMode, roleModes, isBot });

test('cluster off: nothing required, whatever the roles say', () => {
  assert.deepEqual(req('off', ['required']), { required: false });
});

test('cluster optional: required only when a granting role requires it (strictest wins)', () => {
  assert.deepEqual(req('optional'), { required: false });
  assert.deepEqual(req('optional', [undefined, 'optional', 'off']), { required: false });
  assert.deepEqual(req('optional', ['off', 'required']), { required: true });
});

test('cluster required: a role cannot relax it; required-for-humans exempts bots only', () => {
  assert.deepEqual(req('required', ['off']), { required: true });
  assert.deepEqual(req('required', [], true), { required: true });
  assert.deepEqual(req('required-for-humans', ['off']), { required: true });
  assert.deepEqual(req('required-for-humans', ['off'], true), { required: false });
  // A role's own `required` is stricter than the humans-only floor and binds bots too.
  assert.deepEqual(req('required-for-humans', ['required'], true), { required: true });
});

test('unknown modes deny and are named', () => {
  assert.deepEqual(req('strict'), { required: true, unknownMode: 'cluster mode "strict"' });
  assert.deepEqual(req('optional', ['requried']), { required: true, unknownMode: 'role mode "requried"' });
});

test('device-trusted means all three device fields', () => {
  assert.equal(isDeviceTrusted(undefined), false);
  assert.equal(isDeviceTrusted({ deviceId: 'a', assetTag: 'b' }), false);
  assert.equal(isDeviceTrusted({ deviceId: 'a', assetTag: 'b', credentialId: 'c' }), true);
});
