import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDefaultRegistry } from './kinds.ts';
import { parseResources } from './parse.ts';
import { describeLockTarget, lockMessage } from './lock.ts';
import { lockDocument } from '../cli/lock-commands.ts';

const registry = createDefaultRegistry();
const ID = '0b5c1f7e-8a7d-4a52-9a51-2f0c1d9e7a11';
const doc = (target: string, extra = '') =>
  `kind: lock\nversion: v2\nmetadata: {name: ${ID}}\nspec:\n  target: ${target}\n  created_by: admin\n  created_at: 2026-01-01T00:00:00Z\n${extra}`;

test('a lock has exactly one target', () => {
  const [lock] = parseResources(doc('{device: d1}', '  message: stolen\n'), registry);
  assert.equal(lock!.kind, 'lock');
  assert.throws(
    () => parseResources(doc('{user: a, role: b}'), registry),
    /a lock targets exactly one of: user, role, login, node, device, db, app, kube_cluster \(got user, role\)/,
  );
  assert.throws(() => parseResources(doc('{}'), registry), /exactly one of: .* \(got none\)/);
  assert.throws(
    () => parseResources(doc('{host: h}'), registry),
    /unknown field; allowed fields: user, role, login, node, device/,
  );
  assert.throws(
    () => parseResources(doc('{user: a}').replace(ID, 'my-lock'), registry),
    /lowercase uuid made by the server/,
  );
});

test('lock messages name the target kind and value, then the message', () => {
  assert.equal(lockMessage({ target: { device: 'd1' } }), 'lock targeting Device:"d1" is in force');
  assert.equal(
    lockMessage({ target: { role: 'dev' }, message: 'incident' }),
    'lock targeting Role:"dev" is in force: incident',
  );
  assert.equal(describeLockTarget({ target: { login: 'root' } }), 'Login:"root"');
  assert.equal(describeLockTarget({ target: { node: 'n1' } }), 'Node:"n1"');
  assert.equal(describeLockTarget({ target: { user: 'a' } }), 'User:"a"');
});

test('databases, apps and Kubernetes clusters can be locked by name, like nodes', () => {
  for (const [target, shown] of [
    ['{db: pg-prod}', 'Database:"pg-prod"'],
    ['{app: grafana}', 'App:"grafana"'],
    ['{kube_cluster: prod-eu}', 'KubernetesCluster:"prod-eu"'],
  ] as const) {
    const [lock] = parseResources(doc(target), registry);
    assert.equal(describeLockTarget(lock!.spec as Parameters<typeof describeLockTarget>[0]), shown);
  }
  assert.deepEqual(lockDocument({ db: 'pg-prod' }).spec, { target: { db: 'pg-prod' } });
  assert.throws(() => lockDocument({ db: 'pg', app: 'wiki' }), /give exactly one target/);
});

test('gatectl lock builds the document: one target, --ttl or --expires', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  assert.deepEqual(lockDocument({ user: 'bob', ttl: '12h', message: 'x' }, now), {
    kind: 'lock',
    version: 'v2',
    metadata: {},
    spec: { target: { user: 'bob' }, message: 'x', expires: '2026-01-01T12:00:00.000Z' },
  });
  assert.deepEqual(lockDocument({ device: 'SN-1', expires: '2026-02-01T00:00:00+01:00' }, now).spec, {
    target: { device: 'SN-1' },
    expires: '2026-01-31T23:00:00.000Z',
  });
  assert.throws(() => lockDocument({}, now), /give exactly one target/);
  assert.throws(() => lockDocument({ user: 'a', node: 'n' }, now), /give exactly one target/);
  assert.throws(() => lockDocument({ user: 'a', ttl: '1h', expires: '2026-02-01T00:00:00Z' }, now), /not both/);
  assert.throws(() => lockDocument({ user: 'a', ttl: '12' }, now), /--ttl: "12" has no unit/);
  assert.throws(
    () => lockDocument({ user: 'a', expires: 'tomorrow' }, now),
    /--expires: "tomorrow" is not an RFC 3339 time/,
  );
});
