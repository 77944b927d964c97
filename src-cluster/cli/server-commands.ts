// `gatectl nodes ls`: every joined service (and in-process node) with its version, address and
// last heartbeat; services that stopped heartbeating are marked STALE rather than hidden.
import type { ClusterClient } from './admin-client.ts';
import { printTable } from './cli-util.ts';

function ago(unix: bigint, now: number): string {
  if (unix <= 0n) return 'unknown';
  const seconds = Math.max(0, Math.round(now / 1000 - Number(unix)));
  return seconds < 120
    ? `${seconds}s ago`
    : seconds < 7200
      ? `${Math.round(seconds / 60)}m ago`
      : `${Math.round(seconds / 3600)}h ago`;
}

export async function printServers(client: ClusterClient, now = Date.now()): Promise<void> {
  const res = await client.listServers({});
  printTable(
    ['Role', 'Name', 'Address', 'Version', 'Last Heartbeat', 'Status', 'Labels'],
    res.servers.map((s) => [
      s.role,
      s.name,
      s.address,
      s.version || '-',
      ago(s.lastHeartbeatUnix, now),
      s.stale ? 'STALE' : 'online',
      Object.entries(s.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    ]),
  );
}
