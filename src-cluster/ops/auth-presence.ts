// Auth servers' presence records, like Teleport's server heartbeats: each auth server writes its
// id, address, version, start time, readiness and last heartbeat into the shared backend on a
// fixed interval, with an expiry, so `gatectl status` on any of them lists every auth server.
// Joined services (proxies, nodes, ...) heartbeat over the API into the same /servers/ records;
// auth does not join, so it writes its own directly.
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../log/logger.ts';
import type { Backend } from '../storage/backend.ts';
import { SERVER_RECORD_KEEP_MS, serverRecordKey, type ServerRecord } from '../join/server-inventory.ts';
import { HEARTBEAT_MS } from '../service/service-runtime.ts';

/** The file (in auth's data dir) holding its stable id, so a restart updates its own record. */
export const AUTH_HOST_ID_FILE = 'auth-host-id';

export interface AuthPresenceOptions {
  backend: Backend;
  dataDir: string;
  /** HOST:PORT of auth's API listener. */
  address: string;
  version: string;
  startedAt: Date;
  /** Auth's own readiness (backend probe, caches); a failure is recorded as not ready. */
  ready(): Promise<boolean>;
  log: Logger;
  intervalMs?: number;
}

/** The id stored in the data dir, created on the first start. */
export function authHostId(dataDir: string): string {
  const path = join(dataDir, AUTH_HOST_ID_FILE);
  try {
    const id = readFileSync(path, 'utf8').trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const id = randomUUID();
  writeFileSync(path, id + '\n', { mode: 0o600 });
  return id;
}

export class AuthPresence {
  readonly hostId: string;
  readonly #opts: AuthPresenceOptions;
  #timer: NodeJS.Timeout | undefined;
  #failing = false;

  constructor(opts: AuthPresenceOptions) {
    this.#opts = opts;
    this.hostId = authHostId(opts.dataDir);
  }

  /** Beats now, then every intervalMs until close(). */
  async start(): Promise<void> {
    this.#timer = setInterval(() => void this.beat(), this.#opts.intervalMs ?? HEARTBEAT_MS);
    this.#timer.unref();
    await this.beat();
  }

  /** Writes the record; a failure is logged once per outage (the next beat retries). */
  async beat(): Promise<void> {
    const o = this.#opts;
    const now = Date.now();
    const record: ServerRecord = {
      role: 'auth',
      name: hostname().split('.')[0]!,
      host_id: this.hostId,
      address: o.address,
      hostname: hostname(),
      version: o.version,
      labels: {},
      last_heartbeat: new Date(now).toISOString(),
      started_at: o.startedAt.toISOString(),
      ready: await o.ready().catch(() => false),
    };
    try {
      await o.backend.put({
        key: serverRecordKey('auth', this.hostId),
        value: JSON.stringify(record),
        expires: new Date(now + SERVER_RECORD_KEEP_MS),
      });
      if (this.#failing) o.log.info('auth heartbeat written again', {});
      this.#failing = false;
    } catch (e) {
      if (!this.#failing) o.log.warn('auth heartbeat could not be written', { error: (e as Error).message });
      this.#failing = true;
    }
  }

  /** Stops beating and removes the record (a clean shutdown is not a missed heartbeat). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#opts.backend.delete(serverRecordKey('auth', this.hostId)).catch(() => undefined);
  }
}
