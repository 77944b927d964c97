// Issue 11, finding 3, inside resources: descriptions and labels are bounded by the kinds'
// schemas (the request field limits only bound the resource JSON as a whole). Through the real
// API for a role, and the schema of every kind that has metadata description/labels.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateKind } from '../../resources/validate.ts';
import { roleKind } from '../../resources/role.ts';
import { lockKind } from '../../resources/lock.ts';
import { deviceKind } from '../../resources/device.ts';
import { DESCRIPTION_MAX_CHARS, LABELS_MAX_ENTRIES, LABEL_VALUE_MAX_CHARS } from '../../resources/fields.ts';
import { connectApi, post, startTestDaemon } from './raw-api.ts';

let cluster: Awaited<ReturnType<typeof startTestDaemon>>;
before(async () => {
  cluster = await startTestDaemon({ node: false });
});
after(async () => cluster?.stop());

const role = (metadata: Record<string, unknown>) => ({
  kind: 'role',
  version: 'v7',
  metadata: { name: 'big', ...metadata },
  spec: { allow: { logins: ['x'] } },
});

test('CreateResource refuses a role whose description is over the limit, naming the field', async () => {
  const s = connectApi(cluster.proxy.port, cluster.daemon.adminIdentityPath);
  try {
    const body = (m: Record<string, unknown>) => Buffer.from(JSON.stringify({ resourceJson: JSON.stringify(role(m)) }));
    const r = await post(
      s,
      '/gatehouse.v1.AuthService/CreateResource',
      'application/json',
      body({ description: 'd'.repeat(DESCRIPTION_MAX_CHARS + 1) }),
    );
    assert.equal(r.status, 400, r.body.toString());
    const err = JSON.parse(r.body.toString()) as { code: string; message: string };
    assert.equal(err.code, 'invalid_argument');
    assert.match(err.message, /metadata\.description: must be at most 1024 characters/);
    const ok = await post(
      s,
      '/gatehouse.v1.AuthService/CreateResource',
      'application/json',
      body({ description: 'd'.repeat(DESCRIPTION_MAX_CHARS) }),
    );
    assert.equal(ok.status, 200, ok.body.toString());
  } finally {
    s.close();
  }
});

test('every kind bounds label values and the number of labels', () => {
  const tooLongValue = { env: 'v'.repeat(LABEL_VALUE_MAX_CHARS + 1) };
  const tooMany = Object.fromEntries(Array.from({ length: LABELS_MAX_ENTRIES + 1 }, (_, i) => [`k${i}`, 'v']));
  const lock = (metadata: Record<string, unknown>) => ({
    kind: 'lock',
    version: 'v2',
    metadata: { name: 'l1', ...metadata },
    spec: { target: { user: 'bob' } },
  });
  for (const [kind, make] of [
    [roleKind, role],
    [lockKind, lock],
  ] as const) {
    assert.throws(
      () => validateKind(kind as never, make({ labels: tooLongValue })),
      /metadata\.labels\.env: must be at most 253 characters/,
    );
    assert.throws(() => validateKind(kind as never, make({ labels: tooMany })), /at most 64 labels allowed/);
    assert.throws(
      () => validateKind(kind as never, make({ description: 'd'.repeat(2000) })),
      /metadata\.description: must be at most 1024/,
    );
  }
  // Devices too (their labels used to be any record, "__proto__" included).
  assert.throws(
    () =>
      validateKind(deviceKind as never, {
        kind: 'device',
        version: 'v1',
        metadata: { name: 'x', labels: tooLongValue },
        spec: {},
      }),
    /metadata\.labels\.env: must be at most 253 characters/,
  );
});
