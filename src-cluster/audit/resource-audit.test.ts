import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { createLogger } from '../log/logger.ts';
import type { AuditEventInput } from './audit-events.ts';
import { auditedChange, type ChangeContext } from './resource-audit.ts';

const log = createLogger({ write: () => {} });

function recorder(failWith = '') {
  const events: AuditEventInput[] = [];
  return {
    events,
    emit: async (e: AuditEventInput) => {
      if (failWith) throw new Error(failWith);
      events.push(e);
    },
  };
}

const ctx = (action: ChangeContext['action'], target: ChangeContext['target']): ChangeContext => ({
  action,
  user: 'admin',
  kindOf: (k) => (k === 'roles' ? 'role' : k),
  target,
});
const device = {
  kind: 'device',
  version: 'v1',
  metadata: { name: 'dev-1' },
  spec: { asset_tag: 'TAG', os_type: 'linux' },
};

test('a created resource is recorded as resource.create with kind and name', async () => {
  const audit = recorder();
  const role = { kind: 'role', version: 'v7', metadata: { name: 'dev' }, spec: {} };
  await auditedChange(audit, log, ctx('create', { kind: 'role' }), async () => ({ resource: role, created: true }));
  assert.deepEqual(audit.events, [
    { type: 'resource.create', success: true, user: 'admin', fields: { kind: 'role', name: 'dev' } },
  ]);
});

test('an upsert that replaced a device is device.update with its id, asset tag and OS', async () => {
  const audit = recorder();
  await auditedChange(audit, log, ctx('create', {}), async () => ({ resource: device, created: false }));
  assert.deepEqual(audit.events, [
    {
      type: 'device.update',
      success: true,
      user: 'admin',
      fields: { device_id: 'dev-1', asset_tag: 'TAG', os_type: 'linux' },
    },
  ]);
});

test('a delete takes the fields from the resource read before it; aliases resolve', async () => {
  const audit = recorder();
  await auditedChange(audit, log, ctx('delete', { kind: 'device', name: 'dev-1', before: device }), async () => {});
  await auditedChange(audit, log, ctx('delete', { kind: 'roles', name: 'old' }), async () => {});
  assert.deepEqual(
    audit.events.map((e) => [e.type, e.fields]),
    [
      ['device.delete', { device_id: 'dev-1', asset_tag: 'TAG', os_type: 'linux' }],
      ['resource.delete', { kind: 'role', name: 'old' }],
    ],
  );
});

test('a refused change is recorded as a failure with its message and the refusal is what the caller gets', async () => {
  const audit = recorder();
  const denied = new GatehouseError(ErrorCode.ACCESS_DENIED, 'access denied: may not delete device resources');
  await assert.rejects(
    auditedChange(audit, log, ctx('delete', { kind: 'device', name: 'dev-1' }), async () => {
      throw denied;
    }),
    (e) => e === denied,
  );
  assert.equal(audit.events[0]?.type, 'device.delete');
  assert.equal(audit.events[0]?.success, false);
  assert.equal(audit.events[0]?.message, denied.message);
  // The audit log failing too does not hide the refusal.
  await assert.rejects(
    auditedChange(recorder('disk full'), log, ctx('delete', { kind: 'device', name: 'x' }), async () => {
      throw denied;
    }),
    (e) => e === denied,
  );
});

test('a change the audit log cannot record fails with STORAGE saying what happened', async () => {
  await assert.rejects(
    auditedChange(recorder('disk full'), log, ctx('create', { kind: 'role' }), async () => ({
      resource: { kind: 'role', version: 'v7', metadata: { name: 'dev' }, spec: {} },
      created: true,
    })),
    (e: unknown) =>
      e instanceof GatehouseError &&
      e.code === ErrorCode.STORAGE &&
      /role "dev" was created but the audit log could not record it \(disk full\)/.test(e.message),
  );
});

test('locks are left to the lock service', async () => {
  const audit = recorder();
  const lock = { kind: 'lock', version: 'v2', metadata: { name: 'l1' }, spec: {} };
  await auditedChange(audit, log, ctx('create', { kind: 'lock' }), async () => ({ resource: lock, created: true }));
  await assert.rejects(
    auditedChange(audit, log, ctx('delete', { kind: 'lock', name: 'l1' }), async () => {
      throw new Error('nope');
    }),
  );
  assert.deepEqual(audit.events, []);
});
