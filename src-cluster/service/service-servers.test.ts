// The proxy's directory of db services from the inventory records auth streams: live ones only,
// malformed records ignored, a new snapshot replacing the old set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createMemoryLogger } from '../log/logger.ts';
import { DB_SERVER_STALE_MS, ServerDirectory } from './service-servers.ts';

const put = (name: string, address: string, at: number) => ({
  type: 'put',
  name,
  resourceJson: JSON.stringify({ role: 'db', name, address, last_heartbeat: new Date(at).toISOString() }),
});

test('live db services by name and in all, stale and deleted ones left out', () => {
  const now = 1_000_000;
  const dir = new ServerDirectory('db service', () => now);
  const log = createMemoryLogger();
  dir.apply(put('db1', '10.0.0.1:3081', now - 5_000), log);
  dir.apply(put('db2', '10.0.0.2:3081', now - DB_SERVER_STALE_MS - 1), log);
  dir.apply(put('db3', '10.0.0.3:3081', now - 1_000), log);
  dir.apply({ type: 'put', name: 'bad', resourceJson: '{"address": 1}' }, log);
  assert.equal(dir.live('db1')?.address, '10.0.0.1:3081');
  assert.equal(dir.live('db2'), undefined);
  assert.deepEqual(
    dir.allLive().map((s) => s.name),
    ['db3', 'db1'],
  );
  assert.ok(log.lines.some((l) => /malformed db service record/.test(l)));
  dir.apply({ type: 'delete', name: 'db3', resourceJson: '' }, log);
  dir.retain((name) => name !== 'db1');
  assert.deepEqual(dir.allLive(), []);
});
