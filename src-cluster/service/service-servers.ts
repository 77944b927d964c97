// The live db services and app services as the proxy knows them: auth's server inventory records
// of role "db" / "app" (ServerInventory, keys /servers/db/<name>, /servers/app/<name>), streamed
// to the proxy as the watch kinds "db_server" / "app_server".
// A record names the service's address and its last heartbeat; a service whose heartbeat is
// older than SERVER_STALE_MS is not routed to (it may have died without deregistering).
import type { Logger } from '../log/logger.ts';

/** The watch kind of db service inventory records (WatchResources, proxy only). */
export const DB_SERVER_KIND = 'db_server';
/** The watch kind of app service inventory records (WatchResources, proxy only). */
export const APP_SERVER_KIND = 'app_server';
/** As ServerInventory's SERVER_STALE_MS: three missed heartbeats of 10 s. */
export const DB_SERVER_STALE_MS = 30_000;

export interface ServerRecord {
  name: string;
  address: string;
  lastHeartbeatMs: number;
}

export class ServerDirectory {
  readonly #servers = new Map<string, ServerRecord>();

  /** `what` names the services in log lines ("db service", "app service"). */
  constructor(
    private readonly what: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A put or delete event of the directory's kind (db_server, app_server). */
  apply(event: { type: string; name: string; resourceJson: string }, log: Logger): void {
    if (event.type === 'delete') {
      this.#servers.delete(event.name);
      return;
    }
    if (event.type !== 'put') return;
    try {
      const doc = JSON.parse(event.resourceJson) as { address?: unknown; last_heartbeat?: unknown };
      const lastHeartbeatMs = Date.parse(String(doc.last_heartbeat));
      if (typeof doc.address !== 'string' || !Number.isFinite(lastHeartbeatMs)) throw new Error('missing fields');
      this.#servers.set(event.name, { name: event.name, address: doc.address, lastHeartbeatMs });
    } catch (e) {
      log.warn(`resource cache: ignored a malformed ${this.what} record`, {
        name: event.name,
        error: (e as Error).message,
      });
    }
  }

  /** Keeps only the records `keep` accepts (a new snapshot replaces the copy). */
  retain(keep: (name: string) => boolean): void {
    for (const name of this.#servers.keys()) if (!keep(name)) this.#servers.delete(name);
  }

  /** The named service when it is live. */
  live(name: string): ServerRecord | undefined {
    const s = this.#servers.get(name);
    return s && this.now() - s.lastHeartbeatMs <= DB_SERVER_STALE_MS ? s : undefined;
  }

  /** Every live service, freshest heartbeat first. */
  allLive(): ServerRecord[] {
    return [...this.#servers.values()]
      .filter((s) => this.now() - s.lastHeartbeatMs <= DB_SERVER_STALE_MS)
      .sort((a, b) => b.lastHeartbeatMs - a.lastHeartbeatMs);
  }
}
