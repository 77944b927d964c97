// The client core as one object: profile store, proxy pins, cluster API and the way to the
// proxy that gateways and SSH (src-main/gateways/) dial with, all rooted in one Gatehouse home. The `gate` CLI, the desktop main process and the browser host each
// make one of these and call it; none of them reaches around it into the parts.
// The network halves (Connect + HTTP/2, ssh2) load on first use: `gate status` stays quick.
import { userInfo } from 'node:os';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { TlsFailureExplainer } from './api-errors.ts';
import type { ClusterClient, LoginParams } from './cluster-client.ts';
import {
  defaultDeviceAgent,
  DeviceTrust,
  releasePrepared,
  type DeviceAgent,
  type KeepTpmSession,
  type LoginOutcome,
} from './device-trust.ts';
import { adoptLegacyDeviceStore, legacyDeviceDirs, resolveDeviceHome } from './device-home.ts';
import { DeviceTrustJournal } from './device-trust-journal.ts';
import { DeviceOperations } from './device-operations.ts';
import type { DeviceDiagnostics } from './device-diagnostics.ts';
import type { DeviceStatusReport, MyDeviceInfo } from './device-status.ts';
import type { CollectedDeviceData } from '../device/collect.ts';
import type { EnrollStepListener } from './enroll-steps.ts';
import { KnownProxies } from './known-proxies.ts';
import { isExpired, ProfileStore, type Profile, type ProfileCredentials } from './profiles.ts';
import { parseProxyAddress, parseProxyList, type ProxyAddress } from './proxy-address.ts';
import { ProxyTrust, type ChainFetcher } from './proxy-trust.ts';
import { RouteCertificates, type IssuedRouteCertificate, type RouteCertificateRequest } from './route-certs.ts';
import { probeTpm, TpmProbeCache } from './tpm-probe.ts';
import { silentLogger, systemClock, type Clock, type CoreLogger } from './types.ts';

export interface GatehouseClientOptions {
  /** The Gatehouse home directory (see resolveGatehouseHome). */
  home: string;
  clock?: Clock;
  logger?: CoreLogger;
  /** Network deadline per API call / SSH handshake. */
  timeoutMs?: number;
  /** For tests: how the proxy's presented chain is fetched on first contact. */
  fetchChain?: ChainFetcher;
  /** The environment (TPM TCTI, DMI cache path); default process.env. */
  env?: Record<string, string | undefined>;
  /** This machine's TPM and device data; default: the real ones. */
  deviceAgent?: DeviceAgent;
  /** The device store (AK blob, enrollments.json, journal); default resolveDeviceHome(env). */
  deviceHome?: string;
  /** The TPM addon's file for the default device agent; default: the repository's native/build. */
  tpmAddonPath?: string;
  /**
   * Keep the TPM open with the AK loaded between device ceremonies, closed after `idleMs` idle
   * or at close(): for long-running processes (the app), so a login's TPM work is the quote
   * alone. Default: none (each ceremony opens its own session, as a one-shot CLI must).
   */
  keepTpmSession?: KeepTpmSession;
}

/** A login profile's way to the proxy (see GatehouseClient.proxyAccess). */
export interface ProfileAccess {
  profile: Profile;
  proxy: ProxyAddress;
  /** The login's other proxies (gate login --proxy a,b): SSH dials the next when one cannot be reached. */
  alternateProxies?: ProxyAddress[];
  proxyCaPem: string;
  credentials: ProfileCredentials;
  clock: Clock;
  logger: CoreLogger;
  /** Network deadline per handshake, when the client was given one. */
  timeoutMs?: number;
  explainTls: TlsFailureExplainer;
  /** A route certificate for this login (cached per route until 2/3 of its life; see route-certs.ts). */
  routeCertificate(request: RouteCertificateRequest): Promise<IssuedRouteCertificate>;
}

/** For agents without probeTpm (test fakes): the TPM is there when it opens. */
function probeByOpening(agent: DeviceAgent) {
  return probeTpm({
    tcti: 'device agent',
    open: async () => {
      const tpm = await agent.openTpm();
      return {
        info: async () => ({ manufacturer: '', vendor: '', firmwareVersion: '' }),
        ekCertificate: () => tpm.ekCertificate(),
        close: () => tpm.close(),
      };
    },
  });
}

export class GatehouseClient {
  readonly home: string;
  readonly profiles: ProfileStore;
  readonly knownProxies: KnownProxies;
  readonly trust: ProxyTrust;
  readonly clock: Clock;
  readonly device: DeviceTrust;
  readonly routeCertificates: RouteCertificates;
  /** The device store shared by every client of this OS user (device-home.ts). */
  readonly deviceHome: string;
  readonly tpmProbe: TpmProbeCache;
  readonly journal: DeviceTrustJournal;
  private readonly deviceOps: DeviceOperations;
  private readonly agent: DeviceAgent;
  private readonly log: CoreLogger;
  private readonly timeoutMs: number | undefined;

  constructor(opts: GatehouseClientOptions) {
    this.home = opts.home;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger ?? silentLogger;
    this.timeoutMs = opts.timeoutMs;
    this.profiles = new ProfileStore(opts.home);
    this.knownProxies = new KnownProxies(opts.home);
    this.trust = new ProxyTrust(this.knownProxies, this.clock, {
      ...(opts.fetchChain ? { fetchChain: opts.fetchChain } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    });
    this.routeCertificates = new RouteCertificates({
      clock: this.clock,
      issue: (profile, request) => this.issueRouteCertificate(profile, request),
    });
    const env = opts.env ?? process.env;
    this.deviceHome = opts.deviceHome ?? resolveDeviceHome(env);
    if (!opts.deviceHome) {
      // Only the default store adopts: a store someone named is theirs to fill.
      try {
        adoptLegacyDeviceStore(this.deviceHome, legacyDeviceDirs(env), this.log);
      } catch (e) {
        this.log.warn('could not adopt the earlier device store', { error: (e as Error).message });
      }
    }
    this.journal = new DeviceTrustJournal(this.deviceHome, this.clock);
    const agent =
      opts.deviceAgent ??
      defaultDeviceAgent({
        deviceHome: this.deviceHome,
        env,
        ...(opts.tpmAddonPath ? { tpmAddonPath: opts.tpmAddonPath } : {}),
        ...(opts.keepTpmSession ? { keepTpmSession: opts.keepTpmSession } : {}),
      });
    this.agent = agent;
    this.device = new DeviceTrust({
      deviceHome: this.deviceHome,
      agent,
      clock: this.clock,
      logger: this.log,
      journal: this.journal,
    });
    this.tpmProbe = new TpmProbeCache(() => (agent.probeTpm ? agent.probeTpm() : probeByOpening(agent)));
    this.deviceOps = new DeviceOperations({
      profiles: this.profiles,
      device: this.device,
      agent,
      tpmProbe: this.tpmProbe,
      journal: this.journal,
      clock: this.clock,
      cluster: (proxy) => this.cluster(proxy),
    });
  }

  /**
   * "This device": the TPM probe (cached) and, with a valid login on `proxy`, the cluster's
   * GetDeviceStatus and the session's device trust. Never throws for a cluster problem
   * (clusterError).
   */
  deviceStatus(opts: { proxy?: string; refresh?: boolean }): Promise<DeviceStatusReport> {
    return this.deviceOps.status(opts);
  }

  /**
   * Enrolls (token or auto-enroll) in the cluster of the stored login for `proxy`, then
   * device-authenticates that login at once (profile saved with device fields). Steps reported;
   * failures journaled; throws GatehouseError with details.step.
   */
  enrollDevice(opts: {
    proxy: string;
    token?: string;
    auto?: boolean;
    onStep?: EnrollStepListener;
  }): Promise<{ profile: Profile; deviceId: string; credentialId: string; totalMs: number }> {
    return this.deviceOps.enroll(opts);
  }

  /** The devices the logged-in user on `proxy` owns; this one marked. */
  myDevices(proxy: string): Promise<MyDeviceInfo[]> {
    return this.deviceOps.myDevices(proxy);
  }

  /** Everything the helpdesk needs about this device and login, without secrets. */
  deviceDiagnostics(opts: { proxy?: string; client: 'gate' | 'desktop'; version: string }): Promise<DeviceDiagnostics> {
    return this.deviceOps.diagnostics(opts);
  }

  /**
   * Logs in (see ClusterClient.login) and then, when the cluster's device trust mode is not `off`
   * and this device is enrolled in the cluster, runs device authentication (a failure is recorded
   * in the profile, the login stands). `gate login` and the desktop app both log in through here.
   */
  async login(cluster: ClusterClient, params: LoginParams): Promise<LoginOutcome> {
    // While the password check runs: the TPM opens and loads the AK, the device data is read.
    const prepared = this.device.prepare(cluster.proxy.address);
    // Naming the enrolled credential makes the cluster fold a device challenge into the login.
    const credentialId = prepared ? this.device.loginCredentialId(cluster.proxy.address) : undefined;
    let login: Awaited<ReturnType<ClusterClient['loginWithDeviceChallenge']>>;
    let deviceData: CollectedDeviceData | undefined;
    try {
      const pending = cluster.loginWithDeviceChallenge({
        ...params,
        ...(credentialId ? { deviceCredentialId: credentialId } : {}),
      });
      pending.catch(() => undefined); // awaited below; a refusal must not count as unhandled meanwhile
      deviceData = prepared ? await this.device.collectSoon() : undefined;
      login = await pending;
    } catch (e) {
      await releasePrepared(prepared);
      throw e;
    }
    const { profile, unsaved } = login;
    const folded =
      login.deviceChallenge && credentialId
        ? { challenge: login.deviceChallenge, credentialId, ...(unsaved ? { credentials: unsaved } : {}) }
        : undefined;
    let outcome: LoginOutcome | undefined;
    try {
      outcome = await this.device.authenticate(cluster, profile, prepared, {
        ...(folded ? { folded } : {}),
        ...(deviceData ? { deviceData } : {}),
      });
    } finally {
      // A login left unsaved for its device challenge is stored as it is unless it became trusted.
      if (unsaved && outcome?.deviceTrust.state !== 'trusted') cluster.saveLogin(profile, unsaved);
    }
    if (outcome.deviceTrust.state !== 'failed') return outcome;
    // Kept with the login so `gate status` and the app can say later why it is not trusted.
    const { code, message, nextStep } = outcome.deviceTrust;
    const withIssue: Profile = { ...outcome.profile, deviceTrustIssue: { code, message, nextStep } };
    this.profiles.update(withIssue);
    return { ...outcome, profile: withIssue };
  }

  /** Releases what is kept between calls (the device agent's TPM session); cluster clients close on their own. */
  async close(): Promise<void> {
    await this.agent.close?.();
  }

  /**
   * A cluster API client for one proxy, or a cluster's proxies ("a:3080,b:3080", the first keying
   * profile and pin); with one, the alternates come from a stored login to it. close() it when done.
   */
  async cluster(proxy: string | ProxyAddress): Promise<ClusterClient> {
    const { ClusterClient } = await import('./cluster-client.ts');
    const [primary, ...alternates] = typeof proxy === 'string' ? parseProxyList(proxy) : [proxy];
    const fromProfile = alternates.length === 0 ? this.storedProxiesOf(primary!.address) : [];
    return new ClusterClient(primary!, {
      alternateProxies: alternates.length > 0 ? alternates : fromProfile.map((p) => parseProxyAddress(p)),
      profiles: this.profiles,
      trust: this.trust,
      clock: this.clock,
      logger: this.log,
      ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
    });
  }

  /** The proxies a login to `proxy` was given (gate login --proxy a,b): the current login's, else any. */
  private storedProxiesOf(proxy: string): string[] {
    const current = this.profiles.current();
    if (current?.proxy === proxy) return current.proxies ?? [];
    return this.profiles.list().find((p) => p.proxy === proxy && p.proxies)?.proxies ?? [];
  }

  /** The current profile, refusing expired certificates with what to do about it. */
  requireValidProfile(): Profile {
    const p = this.profiles.requireCurrent();
    if (isExpired(p, this.clock())) {
      throw new GatehouseError(
        ErrorCode.CERT_EXPIRED,
        `your login to ${p.proxy} as ${p.user} expired at ${p.validUntil}; run "gate login" again`,
      );
    }
    return p;
  }

  /**
   * The login to use on a node when none was named: the local user name when the profile allows
   * it (like ssh), else the profile's only login.
   */
  defaultLogin(profile: Profile, localUser: string = userInfo().username): string {
    if (profile.logins.includes(localUser)) return localUser;
    if (profile.logins.length === 1) return profile.logins[0]!;
    if (profile.logins.length === 0) {
      throw new GatehouseError(ErrorCode.ACCESS_DENIED, `your roles allow no logins on nodes; ask your administrator`);
    }
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `choose a login with -l (yours: ${profile.logins.join(', ')})`);
  }

  /**
   * Everything needed to reach the proxy as this profile's user: the address, the pinned CA, the
   * key and certificates. Gateways and SSH (src-main/gateways/) dial with it; an expired login
   * is refused here, before any connection is tried.
   */
  proxyAccess(profile: Profile): ProfileAccess {
    if (isExpired(profile, this.clock())) {
      throw new GatehouseError(
        ErrorCode.CERT_EXPIRED,
        `your login to ${profile.proxy} as ${profile.user} expired at ${profile.validUntil}; run "gate login" again`,
      );
    }
    const proxy = parseProxyAddress(profile.proxy);
    const credentials = this.profiles.loadCredentials(profile);
    return {
      profile,
      proxy,
      alternateProxies: (profile.proxies ?? [])
        .map((p) => parseProxyAddress(p))
        .filter((p) => p.address !== proxy.address),
      proxyCaPem: this.trust.pinned(proxy).caPem,
      credentials,
      routeCertificate: (request) => this.routeCertificates.get(profile, credentials.tlsCertificatePem, request),
      clock: this.clock,
      logger: this.log,
      explainTls: (p, cause) => this.trust.explainVerifyFailure(p, cause, proxy),
      ...(this.timeoutMs ? { timeoutMs: this.timeoutMs } : {}),
    };
  }

  /** Forgets a login (keys and certificates); the proxy's CA pin stays, like known_hosts. */
  logout(profile: Pick<Profile, 'proxy' | 'user'>): boolean {
    this.routeCertificates.forget(profile);
    return this.profiles.remove(profile.proxy, profile.user);
  }

  /**
   * Issues one route certificate over a connection opened for it and closed at once: issuing
   * happens about hourly per route, and a lingering HTTP/2 session would keep `gate` alive.
   */
  private async issueRouteCertificate(
    profile: Profile,
    request: RouteCertificateRequest,
  ): Promise<{ certPem: string; expiresAt: Date }> {
    const cluster = await this.cluster(profile.proxy);
    try {
      return await cluster.issueRouteCertificate(profile, request);
    } finally {
      cluster.close();
    }
  }
}
