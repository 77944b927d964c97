// An in-process daemon (auth, proxy, node) with a diagnostics listener: readyz turns 503 naming
// auth_backend when auth's storage is closed under it (liveness stays 200), auth writes its
// presence record with an expiry and removes it on a clean shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../daemon/config.ts';
import { startDaemon } from '../../daemon/daemon.ts';
import { createMemoryLogger } from '../../log/logger.ts';
import { SqliteBackend } from '../../storage/sqlite.ts';
import { AUTH_HOST_ID_FILE } from '../auth-presence.ts';
import { probe } from '../test-support/scrape.ts';

const CONFIG = [
  'proxy:',
  '  listen_addr: 127.0.0.1:0',
  'node:',
  '  name: ops-node',
  '  listen_addr: 127.0.0.1:0',
  'diagnostics:',
  '  listen_addr: 127.0.0.1:0',
  '',
].join('\n');

test('readyz is 503 naming auth_backend once the backend is closed; healthz stays 200', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-daemon-ops-'));
  const cfg = parseConfig(CONFIG, 'test');
  cfg.data_dir = dir;
  const daemon = await startDaemon(cfg, createMemoryLogger('warn'));
  t.after(async () => {
    await daemon.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const addr = daemon.diagAddress!;
  assert.match(addr, /^127\.0\.0\.1:\d+$/);
  const ready = await probe(addr, '/readyz');
  assert.equal(ready.status, 200, JSON.stringify(ready.json));

  // Auth's presence record: keyed by the id kept in the data dir, with an expiry.
  const hostId = readFileSync(join(dir, AUTH_HOST_ID_FILE), 'utf8').trim();
  const record = await daemon.backend!.get(`/servers/auth/${hostId}`);
  assert.ok(record?.expires, 'the auth heartbeat expires on its own');
  const presence = JSON.parse(record.value) as { role: string; address: string; ready: boolean; started_at: string };
  assert.equal(presence.role, 'auth');
  assert.equal(presence.address, daemon.authAddress);
  assert.equal(presence.ready, true);
  assert.ok(Number.isFinite(Date.parse(presence.started_at)));

  await daemon.backend!.close();
  const broken = await probe(addr, '/readyz');
  assert.equal(broken.status, 503);
  assert.ok(broken.json.failing.includes('auth_backend'), JSON.stringify(broken.json));
  assert.equal((await probe(addr, '/healthz')).status, 200, 'a lost backend makes auth unready, not dead');
});

test('a clean shutdown removes the auth presence record', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-daemon-ops-'));
  try {
    const cfg = parseConfig(CONFIG, 'test');
    cfg.data_dir = dir;
    const daemon = await startDaemon(cfg, createMemoryLogger('warn'));
    await daemon.close();
    const hostId = readFileSync(join(dir, AUTH_HOST_ID_FILE), 'utf8').trim();
    const backend = await SqliteBackend.open({ path: join(dir, 'gatehouse.db') });
    try {
      assert.equal(await backend.get(`/servers/auth/${hostId}`), undefined);
    } finally {
      await backend.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
