// The inventory of joined services (proxy, node, db, app): what each heartbeat says about where
// it answers and which version it runs. It generalizes the node registry: a node's heartbeat
// also refreshes its `node` resource, which ListNodes, `gate ls` and the proxy's routing read.
import { isIP } from 'node:net';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { Backend, Item } from '../storage/backend.ts';
import type { Resource } from '../storage/resources.ts';
import { labelKeyProblem, nameProblem } from '../resources/fields.ts';
import type { HostIdentity, ServiceRole } from '../auth/host-identity.ts';

/** Services heartbeat every 10 s; three missed beats and a service is shown as stale. */
export const SERVER_STALE_MS = 30_000;
/** A stale record stays listed (marked) this long, then storage drops it. */
export const SERVER_RECORD_KEEP_MS = 3600_000;
const PREFIX = '/servers/';

/** Where a server's record lives; auth servers (which do not join) write theirs under role "auth". */
export function serverRecordKey(role: ServiceRole | 'auth', name: string): string {
  return `${PREFIX}${role}/${name}`;
}
const MAX_LABELS = 64;
const MAX_LABEL_VALUE_CHARS = 253;
const MAX_TEXT_CHARS = 253;

export interface ServerRecord {
  role: ServiceRole | 'auth';
  name: string;
  host_id: string;
  /** HOST:PORT where clients (or the proxy) reach the service. */
  address: string;
  hostname: string;
  version: string;
  labels: Record<string, string>;
  /** RFC 3339. */
  last_heartbeat: string;
  /** RFC 3339: when the process started; absent from services older than the field. */
  started_at?: string;
  /** Whether the service was ready (backend or auth reachable, caches warm) at its last heartbeat. */
  ready?: boolean;
}

export interface ListedServer extends ServerRecord {
  stale: boolean;
}

export interface HeartbeatInput {
  address: string;
  hostname: string;
  version: string;
  labels: Record<string, string>;
  started_at?: string;
  ready?: boolean;
}

/** The node registry nodes also appear in (AuthServer's), so node routing keeps working. */
export interface NodeRegistry {
  heartbeatNode(
    name: string,
    spec: { address: string; hostname: string; labels: Record<string, string> },
  ): Promise<void>;
  removeNode(name: string): Promise<void>;
  listNodes(): Promise<Resource<{ address: string; hostname: string; labels: Record<string, string> }>[]>;
}

function bad(message: string): GatehouseError {
  return new GatehouseError(ErrorCode.BAD_REQUEST, message);
}

/** Refuses what a heartbeat must not store: unbounded text, odd labels, an address without a port. */
export function checkHeartbeat(input: HeartbeatInput): void {
  const m = /^(.+):(\d{1,5})$/.exec(input.address);
  const host = m?.[1]?.replace(/^\[(.*)\]$/, '$1') ?? '';
  if (
    !m ||
    Number(m[2]) < 1 ||
    Number(m[2]) > 65535 ||
    (!isIP(host) && nameProblem(host.toLowerCase()) !== undefined)
  ) {
    throw bad(`server address must be HOST:PORT, got ${JSON.stringify(input.address.slice(0, 300))}`);
  }
  for (const [what, v] of [
    ['hostname', input.hostname],
    ['version', input.version],
  ] as const) {
    if (v.length > MAX_TEXT_CHARS) throw bad(`server ${what} is longer than ${MAX_TEXT_CHARS} characters`);
  }
  if (
    input.started_at !== undefined &&
    (input.started_at.length > 40 || !Number.isFinite(Date.parse(input.started_at)))
  ) {
    throw bad(`server started_at must be an RFC 3339 time, got ${JSON.stringify(input.started_at.slice(0, 60))}`);
  }
  const labels = Object.entries(input.labels);
  if (labels.length > MAX_LABELS) throw bad(`a server may have at most ${MAX_LABELS} labels`);
  for (const [k, v] of labels) {
    const problem = labelKeyProblem(k);
    if (problem) throw bad(problem);
    if (v.length > MAX_LABEL_VALUE_CHARS) throw bad(`label ${k} is longer than ${MAX_LABEL_VALUE_CHARS} characters`);
  }
}

export class ServerInventory {
  constructor(
    private readonly backend: Backend,
    private readonly nodes: NodeRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  private key(role: ServiceRole, name: string): string {
    return serverRecordKey(role, name);
  }

  /**
   * ALREADY_EXISTS when another live service (other host id, heartbeat not stale) holds this
   * role and name: names are unique per role. A stale holder gives the name up.
   */
  async requireNameFree(role: ServiceRole, name: string, hostId?: string): Promise<void> {
    const item = await this.backend.get(this.key(role, name));
    if (!item) return;
    const held = decode(item);
    if (held.host_id === hostId || this.isStale(held)) return;
    throw new GatehouseError(
      ErrorCode.ALREADY_EXISTS,
      `a ${role} named "${name}" is already joined (host ${held.host_id}, last heartbeat ${held.last_heartbeat}); choose another name or remove it first`,
    );
  }

  async heartbeat(host: HostIdentity, input: HeartbeatInput): Promise<ServerRecord> {
    checkHeartbeat(input);
    await this.requireNameFree(host.role, host.name, host.hostId);
    const now = this.now();
    const record: ServerRecord = {
      role: host.role,
      name: host.name,
      host_id: host.hostId,
      address: input.address,
      hostname: input.hostname,
      version: input.version,
      labels: { ...input.labels },
      last_heartbeat: new Date(now).toISOString(),
      ...(input.started_at !== undefined ? { started_at: input.started_at } : {}),
      ...(input.ready !== undefined ? { ready: input.ready } : {}),
    };
    await this.backend.put({
      key: this.key(host.role, host.name),
      value: JSON.stringify(record),
      expires: new Date(now + SERVER_RECORD_KEEP_MS),
    });
    if (host.role === 'node') {
      await this.nodes.heartbeatNode(host.name, {
        address: input.address,
        hostname: input.hostname,
        labels: record.labels,
      });
    }
    return record;
  }

  /** Removes the caller's own record (a service shutting down); a name it no longer holds is left alone. */
  async remove(host: HostIdentity): Promise<void> {
    const key = this.key(host.role, host.name);
    const item = await this.backend.get(key);
    if (!item || decode(item).host_id !== host.hostId) return;
    await this.backend.delete(key).catch(() => undefined);
    if (host.role === 'node') await this.nodes.removeNode(host.name);
  }

  /**
   * Every registered service, stale ones marked. Nodes registered in-process (without joining)
   * have no server record; they are listed from the node registry with what it knows.
   */
  async list(role?: string): Promise<ListedServer[]> {
    const records = (await this.backend.listPrefix(role ? `${PREFIX}${role}/` : PREFIX)).map(decode);
    const out: ListedServer[] = records.map((r) => ({ ...r, stale: this.isStale(r) }));
    if (!role || role === 'node') {
      const joined = new Set(records.filter((r) => r.role === 'node').map((r) => r.name));
      for (const n of await this.nodes.listNodes()) {
        if (joined.has(n.metadata.name)) continue;
        const expires = Date.parse(String(n.metadata.expires ?? ''));
        const last = Number.isFinite(expires) ? new Date(expires - SERVER_STALE_MS).toISOString() : '';
        out.push({
          role: 'node',
          name: n.metadata.name,
          host_id: '',
          address: n.spec.address,
          hostname: n.spec.hostname,
          version: '',
          labels: n.spec.labels,
          last_heartbeat: last,
          stale: false,
        });
      }
    }
    return out.sort((a, b) => a.role.localeCompare(b.role) || a.name.localeCompare(b.name));
  }

  private isStale(r: ServerRecord): boolean {
    return this.now() - Date.parse(r.last_heartbeat) > SERVER_STALE_MS;
  }
}

function decode(item: Item): ServerRecord {
  return JSON.parse(item.value) as ServerRecord;
}
