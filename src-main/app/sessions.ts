// Who is logged in where, as the app sees it: each added cluster's session is the profile of the
// user recorded in app-clusters.json. Every call that needs certificates goes through require()
// or guard(), which is where an expired session is noticed and `auth.expired` is emitted; a
// timer per session also emits it the moment the certificates run out, so the renderer can ask
// for the password again before the user clicks anything.
import { ErrorCode, GatehouseError, isGatehouseError, type ErrorCode as ErrorCodeT } from '../../src-shared/errors.ts';
import type { EnrollmentRecord } from '../core/enrollments.ts';
import { deviceTrustStatus } from '../core/device-trust-status.ts';
import type { ClusterClient } from '../core/cluster-client.ts';
import type { GatehouseClient } from '../core/gatehouse-client.ts';
import { isExpired, timeLeftMs, type Profile } from '../core/profiles.ts';
import { parseProxyAddress, parseProxyList } from '../core/proxy-address.ts';
import type { Clock } from '../core/types.ts';
import type { DeviceDisplay, SessionInfo } from '../ipc/contract.ts';
import type { AppClusterStore } from './app-clusters.ts';
import type { AppEvents } from './events.ts';
import type { AppLogger } from './logger.ts';

/** The canonical "host:port" the app keys everything by, whatever form the user typed. */
export function canonicalProxy(proxy: string): string {
  return parseProxyAddress(proxy).address;
}

/**
 * A cluster as the user gave it: one proxy address or a cluster's several ("a:3080, b:3080", as
 * `gate login --proxy a,b` takes them), canonical, first one first. The first keys the cluster,
 * its session and its CA pin; every bad address is named in one BAD_REQUEST.
 */
export function clusterProxies(input: string): { proxy: string; proxies: string[] } {
  const proxies = parseProxyList(input).map((p) => p.address);
  return { proxy: proxies[0]!, proxies };
}

/**
 * What the renderer sees of a login: identity, expiry and device trust (from the profile and this
 * device's local enrollment record for the cluster, if any).
 */
export function sessionInfo(profile: Profile, now: Date, enrollment?: EnrollmentRecord): SessionInfo {
  const trust = deviceTrustStatus(profile, enrollment);
  const d = profile.device;
  // Attestation type is known from the enrollment record only; it belongs to the device in the
  // certificates when both name the same credential.
  const attestation =
    enrollment && (!d || d.credentialId === enrollment.credentialId) ? enrollment.attestationType : undefined;
  const device: DeviceDisplay | undefined = d
    ? {
        assetTag: d.assetTag,
        credentialId: d.credentialId,
        ...(attestation ? { attestationType: attestation } : {}),
        ...(d.osType ? { osType: d.osType } : {}),
        ...(d.issuedAt ? { issuedAt: d.issuedAt } : {}),
      }
    : enrollment
      ? {
          assetTag: enrollment.assetTag,
          credentialId: enrollment.credentialId,
          attestationType: enrollment.attestationType,
          osType: enrollment.osType,
        }
      : undefined;
  const issue = !d ? profile.deviceTrustIssue : undefined;
  return {
    user: profile.user,
    roles: [...profile.roles],
    logins: [...profile.logins],
    validUntil: profile.validUntil,
    expired: isExpired(profile, now),
    deviceTrusted: d !== undefined,
    ...(d ? { deviceAssetTag: d.assetTag } : {}),
    deviceTrustState: trust.state,
    deviceTrustMode: trust.mode,
    deviceTrustRequired: trust.required,
    ...(device ? { device } : {}),
    ...(issue
      ? { deviceTrustIssue: { code: issue.code as ErrorCodeT, message: issue.message, nextStep: issue.nextStep } }
      : {}),
  };
}

/** sessionInfo with this device's enrollment record looked up (a damaged record file counts as none). */
export function sessionInfoOf(core: Pick<GatehouseClient, 'device'>, profile: Profile, now: Date): SessionInfo {
  let enrollment: EnrollmentRecord | undefined;
  try {
    enrollment = core.device.enrollmentFor(profile);
  } catch {
    enrollment = undefined;
  }
  return sessionInfo(profile, now, enrollment);
}

/**
 * One ClusterClient (and so one HTTP/2 connection per identity) per cluster, for the app's
 * lifetime, dialling the cluster's proxies (its stored list, or the one being probed or added):
 * a call moves to the next proxy when the one in use cannot be reached (ClusterClient.call).
 */
export class ClusterClients {
  private readonly clients = new Map<string, { proxies: string; client: Promise<ClusterClient> }>();

  constructor(
    private readonly core: GatehouseClient,
    /** The cluster's stored proxies (app-clusters.json), first one first; undefined for one proxy. */
    private readonly storedProxies: (proxy: string) => readonly string[] | undefined = () => undefined,
  ) {}

  /** The client for the cluster keyed by `proxy`; `proxies` (while probing or adding) overrides the stored list. */
  get(proxy: string, proxies?: readonly string[]): Promise<ClusterClient> {
    const list = (proxies ?? this.storedProxies(proxy) ?? [proxy]).join(',');
    const kept = this.clients.get(proxy);
    if (kept?.proxies === list) return kept.client;
    if (kept) this.drop(proxy);
    const client = this.core.cluster(list);
    this.clients.set(proxy, { proxies: list, client });
    return client;
  }

  drop(proxy: string): void {
    const c = this.clients.get(proxy);
    this.clients.delete(proxy);
    void c?.client.then((client) => client.close());
  }

  async closeAll(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    for (const c of await Promise.all(all.map((x) => x.client))) c.close();
  }
}

/** setTimeout's limit; longer waits are done in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class Sessions {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly deps: {
      core: GatehouseClient;
      store: AppClusterStore;
      events: AppEvents;
      clock: Clock;
      log: AppLogger;
    },
  ) {}

  /** The session's profile (expired or not); undefined when logged out or its files are gone. */
  profileOf(proxy: string): Profile | undefined {
    const user = this.deps.store.get(proxy)?.user;
    if (!user) return undefined;
    try {
      return this.deps.core.profiles.load(proxy, user);
    } catch (e) {
      this.deps.log.warn('cannot read a login profile', { proxy, user, error: (e as Error).message });
      return undefined;
    }
  }

  /** A valid session's profile, or NOT_LOGGED_IN / CERT_EXPIRED (which also emits auth.expired). */
  require(proxy: string): Profile {
    const entry = this.deps.store.require(proxy);
    const profile = this.profileOf(proxy);
    if (!profile) {
      throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, `you are not logged in to ${entry.clusterName}; log in first`, {
        proxy,
      });
    }
    if (isExpired(profile, this.deps.clock())) {
      this.deps.events.emit('auth.expired', { proxy });
      throw new GatehouseError(
        ErrorCode.CERT_EXPIRED,
        `your login to ${entry.clusterName} as ${profile.user} expired at ${profile.validUntil}; log in again`,
        { proxy },
      );
    }
    return profile;
  }

  /** Runs a call that uses the session; the cluster refusing it as expired emits auth.expired too. */
  async guard<T>(proxy: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (isGatehouseError(e) && e.code === ErrorCode.CERT_EXPIRED) this.deps.events.emit('auth.expired', { proxy });
      throw e;
    }
  }

  /** Emits auth.expired when the session's certificates run out (unless it was replaced or ended). */
  watch(proxy: string, profile: Profile): void {
    this.unwatch(proxy);
    const left = timeLeftMs(profile, this.deps.clock());
    if (left <= 0) return;
    const timer = setTimeout(
      () => {
        this.timers.delete(proxy);
        const now = this.profileOf(proxy);
        if (!now || now.validUntil !== profile.validUntil) return;
        if (isExpired(now, this.deps.clock())) {
          this.deps.log.info('session expired', { proxy, user: now.user });
          this.deps.events.emit('auth.expired', { proxy });
        } else {
          this.watch(proxy, now);
        }
      },
      // A little late rather than early: the check above uses the clock, not the timer.
      Math.min(left + 50, MAX_TIMER_MS),
    );
    timer.unref();
    this.timers.set(proxy, timer);
  }

  unwatch(proxy: string): void {
    const t = this.timers.get(proxy);
    if (t) clearTimeout(t);
    this.timers.delete(proxy);
  }

  /** Starts the expiry timers for the sessions found on disk at start-up. */
  watchAll(): void {
    for (const entry of this.deps.store.list()) {
      const p = this.profileOf(entry.proxy);
      if (p) this.watch(entry.proxy, p);
    }
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}
