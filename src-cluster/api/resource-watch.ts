// WatchResources: the resources a joined service decides with locally, as one stream: the CAs'
// public parts ("ca"), every current resource ("put"), "init", then each change. Only kinds the
// caller's role needs, and only stores that hold no secrets (credentials, token hashes and CA
// keys live under other prefixes that are never watched). Bounded: a watcher that falls more than
// WATCH_SEND_QUEUE_LIMIT events behind is ended with an error and must reconnect and resync.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { HostIdentity, ServiceRole } from '../auth/host-identity.ts';
import type { Backend, Item, WatchEvent } from '../storage/backend.ts';

const SERVICE_KINDS = ['role', 'user', 'lock', 'cluster_auth_preference'] as const;
/**
 * Which kinds each role may watch: the proxy also routes to nodes, databases, db services, apps
 * and app services (db_server / app_server: the inventory records of roles "db" / "app"), so it
 * sees them; a db service its databases, an app service its apps.
 */
export const WATCH_KINDS_BY_ROLE: Record<ServiceRole, readonly string[]> = {
  node: SERVICE_KINDS,
  proxy: [...SERVICE_KINDS, 'node', 'db', 'db_server', 'app', 'app_server'],
  db: [...SERVICE_KINDS, 'db'],
  app: [...SERVICE_KINDS, 'app'],
};
/** Events waiting to be sent to one stream before it is cut off as too slow. */
export const WATCH_SEND_QUEUE_LIMIT = 1024;

export interface WatchedEvent {
  type: 'put' | 'delete' | 'init' | 'ca';
  kind: string;
  name: string;
  resourceJson: string;
  tlsUserCaPems: string[];
  sshUserCaKeys: string[];
}

export interface ResourceWatchDeps {
  backend: Backend;
  /** Key prefix of each watchable kind's store (ResourceStore.prefix), e.g. role → "/roles/". */
  prefixes: Record<string, string>;
  caPublicParts: () => { tlsUserCaPems: string[]; sshUserCaKeys: string[] };
  sendQueueLimit?: number;
}

/** The kinds asked for (all the role may read when none are named); refuses the others. */
export function allowedWatchKinds(host: HostIdentity, kinds: readonly string[], known: readonly string[]): string[] {
  const allowed = WATCH_KINDS_BY_ROLE[host.role].filter((k) => known.includes(k));
  if (kinds.length === 0) return allowed;
  for (const k of kinds) {
    if (!allowed.includes(k)) {
      throw new GatehouseError(
        ErrorCode.ACCESS_DENIED,
        `a ${host.role} service may not watch ${JSON.stringify(k.slice(0, 64))} (allowed: ${allowed.join(', ')})`,
      );
    }
  }
  return [...new Set(kinds)];
}

function event(type: WatchedEvent['type'], kind = '', name = '', resourceJson = ''): WatchedEvent {
  return { type, kind, name, resourceJson, tlsUserCaPems: [], sshUserCaKeys: [] };
}

/** The stored document as ListResources returns it: the item revision is the resource revision. */
function resourceJson(item: Item): string {
  const doc = JSON.parse(item.value) as { metadata?: Record<string, unknown> };
  return JSON.stringify({ ...doc, metadata: { ...doc.metadata, revision: item.revision } });
}

/** Pulls a backend watcher into a bounded queue, so a slow stream fails instead of growing. */
class BoundedPump {
  private readonly queue: WatchEvent[] = [];
  private waiter: (() => void) | undefined;
  private failure: Error | undefined;
  private ended = false;

  constructor(
    private readonly source: AsyncIterable<WatchEvent>,
    private readonly limit: number,
  ) {
    void this.run();
  }

  private async run(): Promise<void> {
    try {
      for await (const e of this.source) {
        if (this.queue.length >= this.limit) {
          throw new GatehouseError(
            ErrorCode.RATE_LIMITED,
            `watch stream fell more than ${this.limit} events behind; reconnect and resync`,
          );
        }
        this.queue.push(e);
        this.wake();
      }
    } catch (e) {
      this.failure = e as Error;
    }
    this.ended = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** The next event; undefined when the source ended; throws when it failed or overflowed. */
  async next(): Promise<WatchEvent | undefined> {
    for (;;) {
      if (this.failure) throw this.failure;
      const e = this.queue.shift();
      if (e) return e;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }
}

export async function* watchResources(
  deps: ResourceWatchDeps,
  kinds: readonly string[],
  signal: AbortSignal,
): AsyncGenerator<WatchedEvent> {
  const byPrefix = kinds.map((kind) => ({ kind, prefix: deps.prefixes[kind]! }));
  const watcher = deps.backend.watch(byPrefix.map((p) => p.prefix));
  const stop = () => watcher.close();
  signal.addEventListener('abort', stop, { once: true });
  try {
    const pump = new BoundedPump(watcher, deps.sendQueueLimit ?? WATCH_SEND_QUEUE_LIMIT);
    // The snapshot is read once the watch is live, so no change falls between the two; changes
    // the snapshot already shows are skipped by revision below.
    const first = await pump.next();
    if (first?.type !== 'init') return;
    yield { ...event('ca'), ...deps.caPublicParts() };
    const seen = new Map<string, number>();
    for (const { kind, prefix } of byPrefix) {
      for (const item of await deps.backend.listPrefix(prefix)) {
        seen.set(item.key, item.revision);
        yield event('put', kind, item.key.slice(prefix.length), resourceJson(item));
      }
    }
    yield event('init');
    for (let e = await pump.next(); e; e = await pump.next()) {
      if (e.type === 'init') continue;
      const where = byPrefix.find((p) => e.item.key.startsWith(p.prefix));
      if (!where) continue;
      const snapshotRevision = seen.get(e.item.key);
      if (snapshotRevision !== undefined && e.item.revision <= snapshotRevision) continue;
      const name = e.item.key.slice(where.prefix.length);
      yield e.type === 'put' ? event('put', where.kind, name, resourceJson(e.item)) : event('delete', where.kind, name);
    }
  } finally {
    signal.removeEventListener('abort', stop);
    watcher.close();
  }
}
