// `gatectl status`'s server rows: health from the heartbeat (missed beats win over an old "ready"),
// ages, only auth servers and proxies, and the JSON shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { ServerInfoSchema, type ServerInfo } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { formatAge, formatServerTable, serverHealth, serverJson, statusServers } from './status-servers.ts';

const NOW = Date.parse('2026-01-02T03:04:05Z');
const unix = (msAgo: number) => BigInt(Math.floor((NOW - msAgo) / 1000));

function server(fields: MessageInitShape<typeof ServerInfoSchema>): ServerInfo {
  return create(ServerInfoSchema, { version: '0.1.0', lastHeartbeatUnix: unix(3_000), ...fields });
}

test('health: missed heartbeats, then ready / not ready, unknown from a server older than the field', () => {
  assert.equal(serverHealth(server({ stale: true, ready: true })), 'missed heartbeats');
  assert.equal(serverHealth(server({ ready: true })), 'ready');
  assert.equal(serverHealth(server({ ready: false })), 'not ready');
  assert.equal(serverHealth(server({})), 'unknown');
});

test('ages in s, m, h, d; unknown times print "-"', () => {
  assert.equal(formatAge(unix(42_000), NOW), '42s');
  assert.equal(formatAge(unix(5 * 60_000), NOW), '5m');
  assert.equal(formatAge(unix(3 * 3600_000), NOW), '3h');
  assert.equal(formatAge(unix(3 * 86_400_000), NOW), '3d');
  assert.equal(formatAge(0n, NOW), '-');
});

test('status lists auth servers and proxies only, as a table and as JSON', () => {
  const listed = [
    server({ role: 'auth', name: 'a1', address: '10.0.0.1:3025', ready: true, startedUnix: unix(600_000) }),
    server({ role: 'node', name: 'n1', address: '10.0.0.3:3022' }),
    server({ role: 'proxy', name: 'p1', address: '10.0.0.2:3080', stale: true, ready: true }),
  ];
  const shown = statusServers(listed);
  assert.deepEqual(
    shown.map((s) => s.name),
    ['a1', 'p1'],
  );
  const table = formatServerTable(shown, NOW);
  assert.match(table, /^ {2}auth +a1 +10\.0\.0\.1:3025 +0\.1\.0 +ready +10m +3s ago$/m);
  assert.match(table, /^ {2}proxy +p1 +10\.0\.0\.2:3080 +0\.1\.0 +missed heartbeats +- +3s ago$/m);
  assert.deepEqual(serverJson(shown[0]!), {
    role: 'auth',
    name: 'a1',
    host_id: '',
    address: '10.0.0.1:3025',
    version: '0.1.0',
    health: 'ready',
    ready: true,
    started_at: new Date(((NOW - 600_000) / 1000) * 1000).toISOString(),
    last_heartbeat: new Date(Number(unix(3_000)) * 1000).toISOString(),
  });
  assert.match(formatServerTable([], NOW), /no auth server or proxy has sent a heartbeat/);
});
