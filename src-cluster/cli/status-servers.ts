// The "Servers" part of `gatectl status`: every auth server and proxy from their heartbeat records
// (issue 17), with version, health and age, so an operator of a multi-server cluster sees at once
// which member is missing or not ready. `gatectl nodes ls` lists every joined service in detail.
import type { ServerInfo } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { formatTable } from './cli-util.ts';

/** The roles `gatectl status` lists; nodes and db/app services are in `gatectl nodes ls`. */
export const STATUS_ROLES = ['auth', 'proxy'] as const;

export type ServerHealth = 'ready' | 'not ready' | 'missed heartbeats' | 'unknown';

/** Missed heartbeats wins: a stale record's readiness is old news. Unknown: a server older than the field. */
export function serverHealth(s: Pick<ServerInfo, 'stale' | 'ready'>): ServerHealth {
  if (s.stale) return 'missed heartbeats';
  if (s.ready === undefined) return 'unknown';
  return s.ready ? 'ready' : 'not ready';
}

/** "42s", "5m", "3h", "2d"; "-" when unknown. */
export function formatAge(fromUnix: bigint, now: number): string {
  if (fromUnix <= 0n) return '-';
  const s = Math.max(0, Math.floor(now / 1000 - Number(fromUnix)));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

const iso = (unix: bigint) => (unix > 0n ? new Date(Number(unix) * 1000).toISOString() : null);

export interface StatusServerJson {
  role: string;
  name: string;
  host_id: string;
  address: string;
  version: string;
  health: ServerHealth;
  ready: boolean | null;
  started_at: string | null;
  last_heartbeat: string | null;
}

export function statusServers(servers: readonly ServerInfo[]): ServerInfo[] {
  return servers.filter((s) => (STATUS_ROLES as readonly string[]).includes(s.role));
}

export function serverJson(s: ServerInfo): StatusServerJson {
  return {
    role: s.role,
    name: s.name,
    host_id: s.hostId,
    address: s.address,
    version: s.version,
    health: serverHealth(s),
    ready: s.ready ?? null,
    started_at: iso(s.startedUnix),
    last_heartbeat: iso(s.lastHeartbeatUnix),
  };
}

/** The table `gatectl status` prints under "Servers:". */
export function formatServerTable(servers: readonly ServerInfo[], now: number): string {
  if (servers.length === 0) return '  (no auth server or proxy has sent a heartbeat)\n';
  return formatTable(
    ['  Role', 'Name', 'Address', 'Version', 'Health', 'Age', 'Last Heartbeat'],
    servers.map((s) => [
      `  ${s.role}`,
      s.name,
      s.address,
      s.version || '-',
      serverHealth(s),
      formatAge(s.startedUnix, now),
      s.lastHeartbeatUnix > 0n ? `${formatAge(s.lastHeartbeatUnix, now)} ago` : '-',
    ]),
  );
}
