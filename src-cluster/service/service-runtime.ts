// What every joined service (proxy, node, db, app) runs to live next to auth: its host
// identity (joined once with a token, then loaded from the data dir), a client to auth over mTLS
// with that identity, renewal before expiry, heartbeats, the watched resource cache it decides
// from, and an audit emitter. When auth goes away the service keeps running on its cache and
// reconnects with bounded, jittered backoff, moving to the next of its auth addresses on each
// failure (several auth servers share one PostgreSQL); nothing here ever ends a live session.
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { Backoff, sleep } from './backoff.ts';
import {
  hostIdentityPath,
  loadHostIdentity,
  renewAtMs,
  saveHostIdentity,
  type HostIdentity,
  type JoinableRole,
} from './host-identity-file.ts';
import {
  clusterClientOf,
  joinCluster,
  renewHostIdentity,
  AUTH_CALL_TIMEOUT_MS,
  type ClusterClient,
} from './join-client.ts';
import { cachedKindsFor, ResourceCache } from './resource-cache.ts';
import { AuthAddresses } from './auth-addresses.ts';
import { RemoteAuditEmitter } from './remote-audit.ts';

export const HEARTBEAT_MS = 10_000;
/** How long a restarted service waits for auth's first snapshot before serving from an empty cache. */
export const FIRST_SNAPSHOT_WAIT_MS = 15_000;
/**
 * A watch that has not delivered its snapshot within this counts as a failed connect, so an auth
 * address that swallows packets (host gone, no RST) costs this long, not the kernel's TCP time-out.
 */
export const WATCH_CONNECT_TIMEOUT_MS = 10_000;

export interface ServiceRuntimeOptions {
  role: JoinableRole;
  name: string;
  dataDir: string;
  /** Auth's API addresses (HOST:PORT), tried in order; the first is used until it fails. */
  authServers: string[];
  /** Needed only when the data dir holds no identity yet. */
  token?: string;
  caPin?: string;
  /** Auth's CA when already known (the single process joins over loopback with it). */
  trustedCaPems?: string[];
  /** Names and addresses for the service's certificates. */
  dnsNames: string[];
  ips: string[];
  version: string;
  log: Logger;
  heartbeatMs?: number;
  /** When the process started (heartbeats carry it; `gatectl status` shows the age). */
  startedAt?: Date;
}

export interface HeartbeatInfo {
  address: string;
  labels: Record<string, string>;
}

export class ServiceRuntime {
  readonly cache: ResourceCache;
  readonly audit: RemoteAuditEmitter;
  /** Shared with the proxy's API forwarder, so every connection to auth moves together. */
  readonly authAddresses: AuthAddresses;
  #identity: HostIdentity;
  #client: ClusterClient;
  readonly #opts: ServiceRuntimeOptions;
  readonly #abort = new AbortController();
  readonly #renewListeners: ((identity: HostIdentity) => void)[] = [];
  #connected = false;
  #heartbeat: HeartbeatInfo | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  #renewTimer: NodeJS.Timeout | undefined;
  #watchDone: Promise<void> = Promise.resolve();
  #firstSnapshot!: () => void;

  private constructor(
    opts: ServiceRuntimeOptions,
    identity: HostIdentity,
    cache: ResourceCache,
    authAddresses: AuthAddresses,
  ) {
    this.#opts = opts;
    this.#identity = identity;
    this.authAddresses = authAddresses;
    this.#client = clusterClientOf(identity, authAddresses.current);
    authAddresses.onMove((address) => (this.#client = clusterClientOf(this.#identity, address)));
    this.cache = cache;
    this.audit = new RemoteAuditEmitter(() => this.#client, opts.log.child('audit'));
  }

  /** Joins (or loads the stored identity), then waits for the first snapshot of the cache. */
  static async start(opts: ServiceRuntimeOptions): Promise<ServiceRuntime> {
    const path = hostIdentityPath(opts.dataDir, opts.role);
    const authAddresses = new AuthAddresses(opts.authServers, opts.log);
    let identity = loadHostIdentity(path);
    const joined = !identity;
    if (identity && (identity.role !== opts.role || identity.name !== opts.name)) {
      throw new GatehouseError(
        ErrorCode.CONFIG,
        `${path} is the identity of ${identity.role} "${identity.name}", not ${opts.role} "${opts.name}"; ` +
          'remove it and join again with a token to rename the service',
      );
    }
    if (!identity) {
      if (!opts.token) {
        throw new GatehouseError(
          ErrorCode.CONFIG,
          `the ${opts.role} has not joined the cluster yet: give a join token (--token, $GATEHOUSE_JOIN_TOKEN, ` +
            'join_token or join_token_file; "gatectl tokens add" makes one)',
        );
      }
      identity = await joinFirstReachable(opts, authAddresses, opts.token);
      await saveHostIdentity(path, identity);
      opts.log.info('joined the cluster', { role: opts.role, name: opts.name, host_id: identity.host_id });
    }
    const cache = await ResourceCache.open(
      { tlsUserCaPems: identity.tls_user_ca_pems, sshUserCaKeys: identity.ssh_user_ca_keys },
      opts.log.child('cache'),
    );
    const runtime = new ServiceRuntime(opts, identity, cache, authAddresses);
    const loaded = new Promise<void>((resolve) => (runtime.#firstSnapshot = resolve));
    runtime.#watchDone = runtime.#watchLoop();
    runtime.#scheduleRenewal();
    // A fresh join must see the cluster before serving; a restart may have to ride out auth being away.
    // The wait's timer is cancelled once the snapshot is in: left running it held the process open.
    const stopWaiting = new AbortController();
    const waited = await Promise.race([
      loaded.then(() => true),
      sleep(joined ? 60_000 : FIRST_SNAPSHOT_WAIT_MS, stopWaiting.signal),
    ]);
    stopWaiting.abort();
    if (!waited) opts.log.warn('auth has not answered yet: serving from an empty cache until it does', {});
    return runtime;
  }

  get identity(): HostIdentity {
    return this.#identity;
  }

  /** The client to auth with the current identity (it changes at renewal). */
  get client(): ClusterClient {
    return this.#client;
  }

  /** True while the watch stream to auth is up. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Hears each renewed identity (the proxy swaps its TLS certificate). */
  onRenewed(listener: (identity: HostIdentity) => void): void {
    this.#renewListeners.push(listener);
  }

  /** Heartbeats now and every heartbeatMs, and again right after each reconnect. */
  startHeartbeat(info: HeartbeatInfo): Promise<void> {
    this.#heartbeat = info;
    clearInterval(this.#heartbeatTimer);
    this.#heartbeatTimer = setInterval(() => void this.beat(), this.#opts.heartbeatMs ?? HEARTBEAT_MS);
    this.#heartbeatTimer.unref();
    return this.beat();
  }

  async beat(): Promise<void> {
    const info = this.#heartbeat;
    if (!info) return;
    const server = {
      role: this.#opts.role,
      name: this.#opts.name,
      hostId: this.#identity.host_id,
      address: info.address,
      hostname: hostname(),
      version: this.#opts.version,
      labels: info.labels,
      startedUnix: BigInt(Math.floor((this.#opts.startedAt?.getTime() ?? 0) / 1000)),
      // Ready = the watch stream to auth is up and the cache holds its snapshot.
      ready: this.#connected,
    };
    await this.#client
      .heartbeat({ server }, { timeoutMs: AUTH_CALL_TIMEOUT_MS })
      .catch((e: Error) => this.#opts.log.warn('heartbeat failed', { error: e.message }));
  }

  /** Stops everything; `deregister` removes the service from the inventory first (a clean shutdown). */
  async close(deregister = false): Promise<void> {
    clearInterval(this.#heartbeatTimer);
    clearTimeout(this.#renewTimer);
    if (deregister && this.#connected) {
      await this.#client.removeServer({}, { timeoutMs: 2_000 }).catch(() => undefined);
    }
    this.#abort.abort();
    await this.#watchDone;
    await this.cache.close();
  }

  async #watchLoop(): Promise<void> {
    const backoff = new Backoff();
    const signal = this.#abort.signal;
    const log = this.#opts.log;
    let failures = 0;
    while (!signal.aborted) {
      const address = this.authAddresses.current;
      const attempt = new AbortController();
      const connectTimer = setTimeout(
        () => attempt.abort(new Error(`no snapshot from ${address} within ${WATCH_CONNECT_TIMEOUT_MS} ms`)),
        WATCH_CONNECT_TIMEOUT_MS,
      );
      try {
        this.cache.beginSnapshot();
        // Each role watches only what it decides with (auth refuses the rest).
        const kinds = cachedKindsFor(this.#opts.role);
        const stream = this.#client.watchResources({ kinds }, { signal: AbortSignal.any([signal, attempt.signal]) });
        for await (const event of stream) {
          await this.cache.apply(event);
          if (event.type !== 'init') continue;
          clearTimeout(connectTimer);
          this.#connected = true;
          backoff.reset();
          if (failures > 0) log.info('reconnected to auth', { auth_server: address, after_attempts: failures });
          failures = 0;
          this.#firstSnapshot();
          void this.beat();
          void this.audit.flush();
        }
      } catch (e) {
        if (signal.aborted) break;
        const reason = attempt.signal.aborted ? String((attempt.signal.reason as Error).message) : (e as Error).message;
        // One warning per outage, not one per attempt; each move to another address logs its own line.
        if (failures === 0)
          log.warn('lost the connection to auth; retrying with backoff', { auth_server: address, error: reason });
        // The next attempt goes to the next address; the re-init there rebuilds the cache.
        this.authAddresses.failover(address, reason);
      } finally {
        clearTimeout(connectTimer);
      }
      this.#connected = false;
      failures++;
      await sleep(backoff.next(), signal);
    }
  }

  #scheduleRenewal(): void {
    const delay = Math.max(1_000, renewAtMs(this.#identity) - Date.now());
    // setTimeout holds at most 2^31-1 ms; a longer wait is re-armed when it fires.
    this.#renewTimer = setTimeout(() => void this.#renew(), Math.min(delay, 2 ** 31 - 1));
    this.#renewTimer.unref();
  }

  async #renew(): Promise<void> {
    if (Date.now() < renewAtMs(this.#identity)) return this.#scheduleRenewal();
    const backoff = new Backoff({ initialMs: 1_000, maxMs: 60_000 });
    while (!this.#abort.signal.aborted) {
      try {
        const next = await renewHostIdentity(this.#client, this.#identity, {
          dnsNames: this.#opts.dnsNames,
          ips: this.#opts.ips,
        });
        await saveHostIdentity(hostIdentityPath(this.#opts.dataDir, this.#opts.role), next);
        this.#identity = next;
        this.#client = clusterClientOf(next, this.authAddresses.current);
        this.#opts.log.info('renewed the host identity', { expires: new Date(next.expires_unix * 1000).toISOString() });
        for (const listener of this.#renewListeners) listener(next);
        return this.#scheduleRenewal();
      } catch (e) {
        this.#opts.log.warn('renewing the host identity failed; retrying', { error: (e as Error).message });
        await sleep(backoff.next(), this.#abort.signal);
      }
    }
  }
}

/**
 * The first join: each address in turn until one answers. Only an unreachable auth moves on; a
 * CA pin mismatch or a refused token is an answer and ends the join with its error.
 */
async function joinFirstReachable(
  opts: ServiceRuntimeOptions,
  addresses: AuthAddresses,
  token: string,
): Promise<HostIdentity> {
  for (let tried = 1; ; tried++) {
    const authServer = addresses.current;
    try {
      return await joinCluster({ ...opts, authServer, token });
    } catch (e) {
      const unreachable = e instanceof GatehouseError && e.code === ErrorCode.PROXY_UNREACHABLE;
      if (!unreachable || tried >= addresses.all.length) throw e;
      addresses.failover(authServer, e.message);
    }
  }
}
