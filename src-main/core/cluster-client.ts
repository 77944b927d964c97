// ClusterClient: the cluster API as the client sees it. Public calls (ping, login, set password)
// verify the proxy against its pinned CA; authenticated calls additionally present the profile's
// X.509 client certificate (mTLS). Every failure leaves as a GatehouseError (see api-errors.ts).
import { createPublicKey } from 'node:crypto';
import { createClient, type CallOptions, type Client } from '@connectrpc/connect';
import { createConnectTransport, Http2SessionManager } from '@connectrpc/connect-node';
import { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { DeviceTrustService } from '../../proto/gen/gatehouse/v1/devicetrust_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { mapApiError } from './api-errors.ts';
import {
  runDeviceAuthentication,
  runDeviceEnrollment,
  runLoginChallengeAnswer,
  storeKeySoon,
  type DeviceAuthParams,
  type DeviceAuthOutcome,
  type DeviceChallengeParams,
  type DeviceEnrollParams,
} from './device-calls.ts';
import type { LoginDeviceChallenge } from '../device/ceremony/answer-login-challenge.ts';
import type { EnrollDeviceResult } from '../device/ceremony/enroll-device.ts';
import { deviceDataMessage } from '../device/ceremony/stream-steps.ts';
import type { CollectedDeviceData } from '../device/collect.ts';
import {
  clusterDeviceStatusFrom,
  myDevicesFrom,
  type ClusterDeviceStatus,
  type MyDeviceInfo,
} from './device-status.ts';
import { generateClientKey } from './keys.ts';
import type { RouteCertificateRequest } from './route-certs.ts';
import { isExpired, type Profile, type ProfileCredentials, type ProfileStore } from './profiles.ts';
import { parseProxyAddress, type ProxyAddress } from './proxy-address.ts';
import { isConnectFailure } from './proxy-failover.ts';
import {
  noProxyAnswered,
  strictTlsOptions,
  unreachableReason,
  type ProxyTrust,
  type TrustDecision,
  type TrustOptions,
} from './proxy-trust.ts';
import { silentLogger, type Clock, type CoreLogger } from './types.ts';
import type { AppInfo, DatabaseInfo, Identity, NodeInfo, PingInfo } from './cluster-info.ts';

export type { AppInfo, DatabaseInfo, Identity, NodeInfo, PingInfo } from './cluster-info.ts';

export interface ClusterClientDeps {
  profiles: ProfileStore;
  trust: ProxyTrust;
  clock: Clock;
  logger?: CoreLogger;
  /** Per-call deadline. */
  timeoutMs?: number;
  /** The cluster's other proxies, dialled in order when the one in use cannot be reached. */
  alternateProxies?: readonly ProxyAddress[];
}

export interface LoginParams {
  user: string;
  password: string;
  otp?: string;
  /** Requested certificate lifetime; the cluster caps it. */
  ttlSeconds?: number;
  /** This device's enrolled credential: the cluster then folds a device challenge into the login. */
  deviceCredentialId?: string;
}

type Api = Client<typeof AuthService>;
type DeviceApi = Client<typeof DeviceTrustService>;
interface Connection {
  api: Api;
  device: DeviceApi;
  session: Http2SessionManager;
}

export class ClusterClient {
  /** Keys the profile and the CA pin; every proxy of the cluster is verified against that pin. */
  readonly proxy: ProxyAddress;
  /** proxy, then the alternates: where calls may be dialled. */
  readonly proxies: readonly ProxyAddress[];
  #dialIndex = 0;
  /** One HTTP/2 connection per identity (public, or a profile's certificates), reused across calls. */
  private readonly apis = new Map<string, Connection>();
  private readonly log: CoreLogger;
  private readonly timeoutMs: number;

  constructor(
    proxy: string | ProxyAddress,
    private readonly deps: ClusterClientDeps,
  ) {
    this.proxy = typeof proxy === 'string' ? parseProxyAddress(proxy) : proxy;
    const others = (deps.alternateProxies ?? []).filter((p) => p.address !== this.proxy.address);
    this.proxies = [this.proxy, ...others];
    this.log = deps.logger ?? silentLogger;
    this.timeoutMs = deps.timeoutMs ?? 15_000;
  }

  /**
   * Chooses the proxy's CA: the stored pin, an explicit one, or on first contact what it presents.
   * A new choice is stored only when login or setPasswordWithToken succeeds. On first contact the
   * CA is read from the first of the cluster's proxies that answers (decision.presentedBy); the pin
   * is keyed by the first proxy and every proxy must present that CA.
   */
  establishTrust(opts: TrustOptions = {}): Promise<TrustDecision> {
    return this.deps.trust.establish(this.proxy, opts, this.proxies.slice(1));
  }

  async ping(): Promise<PingInfo> {
    const r = await this.call(undefined, (api, o) => api.ping({}, o));
    return {
      clusterName: r.clusterName,
      serverVersion: r.serverVersion,
      authType: r.auth?.type ?? 'local',
      secondFactor: r.auth?.secondFactor || 'off',
      deviceTrustMode: r.deviceTrust?.mode ?? 'off',
      proxyPublicAddr: r.proxyPublicAddr,
    };
  }

  /**
   * Logs in: makes a fresh key pair, sends its public half with the password (and OTP), stores
   * the returned certificates and CA material as a profile and makes it current.
   */
  async login(p: LoginParams): Promise<Profile> {
    const r = await this.loginWithDeviceChallenge(p);
    if (r.unsaved) this.saveLogin(r.profile, r.unsaved);
    return r.profile;
  }

  /**
   * login, plus the device challenge folded into it when p.deviceCredentialId named this device's
   * credential (none from older clusters or with device trust off). With a challenge the login is
   * NOT stored (`unsaved`): answerDeviceChallenge stores the trusted certificates (one write),
   * else the caller must saveLogin.
   */
  async loginWithDeviceChallenge(
    p: LoginParams,
  ): Promise<{ profile: Profile; deviceChallenge?: LoginDeviceChallenge; unsaved?: ProfileCredentials }> {
    const key = generateClientKey(`${p.user}@gatehouse`);
    const r = await this.call(undefined, (api, o) =>
      api.login(
        {
          user: p.user,
          password: p.password,
          otp: p.otp ?? '',
          publicKey: key.publicKeyLine,
          ttlSeconds: BigInt(p.ttlSeconds ?? 0),
          deviceCredentialId: p.deviceCredentialId ?? '',
        },
        o,
      ),
    );
    if (!r.sshCertificate || !r.tlsCertificate) {
      throw new GatehouseError(ErrorCode.INTERNAL, 'the cluster accepted the login but returned no certificates');
    }
    const profile: Profile = {
      proxy: this.proxy.address,
      ...(this.proxies.length > 1 ? { proxies: this.proxies.map((x) => x.address) } : {}),
      user: r.user || p.user,
      cluster: r.clusterName,
      roles: r.roles,
      logins: r.logins,
      validUntil: new Date(Number(r.expiresUnix) * 1000).toISOString(),
      loggedInAt: this.deps.clock().toISOString(),
      sshHostCaKeys: r.sshHostCaKeys,
      tlsHostCaCerts: r.tlsHostCaCerts,
      sshUserCaKeys: r.sshUserCaKeys,
      tlsUserCaCerts: r.tlsUserCaCerts,
      deviceTrustMode: r.deviceTrustMode || 'off',
      deviceTrustRequired: r.deviceTrustRequired,
    };
    const creds: ProfileCredentials = { key, sshCertificate: r.sshCertificate, tlsCertificatePem: r.tlsCertificate };
    this.deps.trust.confirm(this.proxy);
    this.log.info('logged in', { proxy: this.proxy.address, user: profile.user, valid_until: profile.validUntil });
    const c = r.deviceChallenge;
    if (!c?.attestationNonce.length) {
      this.deps.profiles.save(profile, creds);
      return { profile };
    }
    const expiresAt = new Date(Number(c.expiresUnix) * 1000);
    return { profile, deviceChallenge: { nonce: c.attestationNonce, pcrs: [...c.pcrs], expiresAt }, unsaved: creds };
  }

  /** Stores a login loginWithDeviceChallenge left unsaved (its device authentication did not succeed). */
  saveLogin(profile: Profile, creds: ProfileCredentials): void {
    this.deps.profiles.save(profile, creds);
  }

  /** Redeems a one-time password-set token; returns the OTP enrollment URI when the cluster uses OTP. */
  async setPasswordWithToken(token: string, password: string): Promise<{ user: string; otpUri?: string }> {
    const r = await this.call(undefined, (api, o) => api.setPasswordWithToken({ token, password }, o));
    this.deps.trust.confirm(this.proxy);
    return r.otpUri ? { user: r.user, otpUri: r.otpUri } : { user: r.user };
  }

  async whoami(profile: Profile): Promise<Identity> {
    const r = await this.call(profile, (api, o) => api.whoAmI({}, o));
    return { user: r.user, roles: r.roles, logins: r.logins, validUntil: new Date(Number(r.expiresUnix) * 1000) };
  }

  /**
   * A route certificate for the profile's login key (see route-certs.ts): same identity and
   * device fields as the login, plus the route; the cluster caps its life at the login's.
   */
  async issueRouteCertificate(
    profile: Profile,
    request: RouteCertificateRequest,
  ): Promise<{ certPem: string; expiresAt: Date }> {
    const key = this.deps.profiles.loadCredentials(profile).key;
    const tlsPublicKeyPem = createPublicKey(key.privateKey).export({ type: 'spki', format: 'pem' }) as string;
    const r = await this.call(profile, (api, o) =>
      api.issueRouteCertificate(
        {
          tlsPublicKeyPem,
          kind: request.kind,
          name: request.name,
          dbUser: request.dbUser ?? '',
          dbName: request.dbName ?? '',
          ttlSeconds: BigInt(request.ttlSeconds ?? 0),
        },
        o,
      ),
    );
    if (!r.tlsCertPem) throw new GatehouseError(ErrorCode.INTERNAL, 'the cluster issued no route certificate');
    return { certPem: r.tlsCertPem, expiresAt: new Date(Number(r.expiresUnix) * 1000) };
  }

  async listNodes(profile: Profile): Promise<NodeInfo[]> {
    const r = await this.call(profile, (api, o) => api.listNodes({}, o));
    return r.nodes
      .map((n) => ({ name: n.name, address: n.address, hostname: n.hostname, labels: { ...n.labels } }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The databases the user's roles let them see, with the db users / names each allows ("*": any). */
  async listDatabases(profile: Profile): Promise<DatabaseInfo[]> {
    const r = await this.call(profile, (api, o) => api.listDatabases({}, o));
    return r.databases
      .map((d) => ({
        name: d.name,
        protocol: d.protocol,
        description: d.description,
        uri: d.uri,
        labels: { ...d.labels },
        allowedDbUsers: [...d.allowedDbUsers],
        allowedDbNames: [...d.allowedDbNames],
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The apps the user's roles let them see (device trust is decided when one is used). */
  async listApps(profile: Profile): Promise<AppInfo[]> {
    const r = await this.call(profile, (api, o) => api.listApps({}, o));
    return r.apps
      .map((a) => ({
        name: a.name,
        kind: a.kind,
        description: a.description,
        uri: a.uri,
        publicAddr: a.publicAddr,
        labels: { ...a.labels },
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Enrolls this device with a one-time token (the TPM ceremony over the profile's mTLS
   * connection). The caller records the enrollment.
   */
  async enrollDevice(profile: Profile, p: DeviceEnrollParams): Promise<EnrollDeviceResult> {
    const conn = this.connection(profile);
    return this.mapped(() => runDeviceEnrollment(conn.device, p));
  }

  /** What the cluster knows about the device reporting `data` (AuthService.GetDeviceStatus). */
  async deviceStatus(profile: Profile, data: CollectedDeviceData, credentialId: string): Promise<ClusterDeviceStatus> {
    const r = await this.call(profile, (api, o) =>
      api.getDeviceStatus({ deviceData: deviceDataMessage(data), credentialId }, o),
    );
    return clusterDeviceStatusFrom(r, {
      cluster: profile.cluster,
      proxy: this.proxy.address,
      assetTag: data.serial_number,
      osType: data.os_type,
    });
  }

  /** The caller's own devices; `data` marks the one this client runs on. */
  async myDevices(profile: Profile, data: CollectedDeviceData): Promise<MyDeviceInfo[]> {
    const r = await this.call(profile, (api, o) => api.listMyDevices({}, o));
    return myDevicesFrom(r.devices, { serial: data.serial_number, osType: data.os_type });
  }

  /**
   * Auto-enroll: asks for an enroll token for the registered device reporting `data`, as the
   * logged-in user (the cluster allows it when device_trust.auto_enroll is on). The token goes
   * straight into the enrollment; it is never logged.
   */
  async autoEnrollToken(profile: Profile, data: CollectedDeviceData): Promise<{ token: string; deviceId: string }> {
    const r = await this.call(profile, (api, o) =>
      api.createDeviceEnrollToken({ autoEnrollDeviceData: deviceDataMessage(data) }, o),
    );
    if (!r.token) throw new GatehouseError(ErrorCode.INTERNAL, 'the cluster made no enroll token');
    return { token: r.token, deviceId: r.deviceId };
  }

  /**
   * Device authentication for the profile's login: the cluster re-issues its certificates with
   * the device fields, which are checked (same key and expiry, fields naming our credential)
   * and stored in place of the old ones. Returns the updated profile.
   */
  async authenticateDevice(profile: Profile, p: DeviceAuthParams): Promise<DeviceAuthOutcome> {
    const conn = this.connection(profile);
    const creds = this.deps.profiles.loadCredentials(profile);
    const r = await this.mapped(() => runDeviceAuthentication(conn.device, profile, creds, p));
    return this.storeDeviceOutcome(profile, creds, r);
  }

  /**
   * Device authentication answering the challenge folded into `profile`'s login, on the login's
   * own connection (no client certificate, so no second TLS handshake): one call. The
   * certificates are checked and stored as with authenticateDevice. `credentials`: the login's,
   * when loginWithDeviceChallenge left it unsaved.
   */
  async answerDeviceChallenge(profile: Profile, p: DeviceChallengeParams): Promise<DeviceAuthOutcome> {
    const conn = this.connection();
    const creds = p.credentials ?? this.deps.profiles.loadCredentials(profile);
    const keyStored = p.credentials ? storeKeySoon(this.deps.profiles, profile, creds) : Promise.resolve(false);
    const r = await this.mapped(() =>
      runLoginChallengeAnswer(conn.device, profile, creds, { timeoutMs: this.timeoutMs, ...p }),
    );
    return this.storeDeviceOutcome(profile, creds, r, await keyStored);
  }

  private async storeDeviceOutcome(
    profile: Profile,
    creds: ProfileCredentials,
    r: DeviceAuthOutcome,
    keyStored = false,
  ): Promise<DeviceAuthOutcome> {
    // When the device fields were issued is shown to people ("trusted since"); the issue of an
    // earlier failed attempt no longer applies.
    const { deviceTrustIssue: _stale, ...rest } = r.profile;
    const outcome: DeviceAuthOutcome = {
      ...r,
      profile: { ...rest, device: { ...r.profile.device!, issuedAt: this.deps.clock().toISOString() } },
    };
    await this.deps.profiles.saveBatched(
      outcome.profile,
      {
        key: creds.key,
        sshCertificate: outcome.certificates.sshCertificate,
        tlsCertificatePem: outcome.certificates.tlsCertificatePem,
      },
      { keyStored },
    );
    this.log.info('device authenticated', {
      proxy: this.proxy.address,
      user: profile.user,
      device_id: outcome.profile.device?.deviceId,
      total_ms: outcome.timings.totalMs,
      tpm_ms: outcome.timings.tpmMs,
    });
    return outcome;
  }

  /** Closes the HTTP/2 connections so a CLI process can exit at once. */
  close(): void {
    for (const { session } of this.apis.values()) session.abort();
    this.apis.clear();
  }

  /** Clients over a strict TLS connection; with a profile, presenting its client certificate. */
  private connection(profile?: Profile): Connection {
    const pin = this.deps.trust.pinned(this.proxy);
    let client: { certPem: string; keyPem: string } | undefined;
    if (profile) {
      if (parseProxyAddress(profile.proxy).address !== this.proxy.address) {
        throw new GatehouseError(
          ErrorCode.BAD_REQUEST,
          `the profile of ${profile.user} belongs to ${profile.proxy}, not ${this.proxy.address}`,
        );
      }
      if (isExpired(profile, this.deps.clock())) {
        throw new GatehouseError(
          ErrorCode.CERT_EXPIRED,
          `the certificates of ${profile.user} at ${profile.proxy} expired at ${profile.validUntil}; run "gate login" again`,
        );
      }
      const creds = this.deps.profiles.loadCredentials(profile);
      client = { certPem: creds.tlsCertificatePem, keyPem: creds.key.privateKeyPem };
    }
    // A new pin, a new login or another proxy means new TLS parameters, hence a new connection.
    const dial = this.dialling;
    const id = `${dial.address}|${pin.fingerprint}|${client ? `${profile!.user}|${client.certPem}` : 'public'}`;
    const cached = this.apis.get(id);
    if (cached) return cached;
    const baseUrl = `https://${dial.address}`;
    const { host: _h, port: _p, ...tlsOpts } = strictTlsOptions(dial, pin.caPem, client);
    const session = new Http2SessionManager(baseUrl, { idleConnectionTimeoutMs: 30_000 }, tlsOpts);
    const transport = createConnectTransport({ httpVersion: '2', baseUrl, sessionManager: session });
    const conn = {
      api: createClient(AuthService, transport),
      device: createClient(DeviceTrustService, transport),
      session,
    };
    this.apis.set(id, conn);
    return conn;
  }

  private async mapped<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw await mapApiError(e, this.dialling, this.explainTls);
    }
  }

  /** Every proxy of the cluster is verified against the CA pinned for the first one. */
  private readonly explainTls = (proxy: ProxyAddress, cause: unknown): Promise<GatehouseError> =>
    this.deps.trust.explainVerifyFailure(proxy, cause, this.proxy);

  /** The proxy calls go to now (the first one until a connect to it fails). */
  get dialling(): ProxyAddress {
    return this.proxies[this.#dialIndex]!;
  }

  /**
   * One unary call; when the proxy in use cannot be reached (see isConnectFailure) the same call
   * goes to the next proxy, each proxy at most once per call, on a connection to that proxy. When
   * none could be reached, PROXY_UNREACHABLE names each proxy with its reason.
   */
  private async call<T>(profile: Profile | undefined, fn: (api: Api, opts: CallOptions) => Promise<T>): Promise<T> {
    const unreached: { proxy: string; reason: string }[] = [];
    for (let tried = 1; ; tried++) {
      const dial = this.dialling;
      const conn = this.connection(profile);
      try {
        return await fn(conn.api, { timeoutMs: this.timeoutMs });
      } catch (e) {
        const connectFailure = isConnectFailure(e, conn.session.state());
        const mapped = await mapApiError(e, dial, this.explainTls);
        if (connectFailure) unreached.push({ proxy: dial.address, reason: unreachableReason(mapped, dial) });
        if (tried < this.proxies.length && connectFailure) {
          this.#dialIndex = (this.#dialIndex + 1) % this.proxies.length;
          this.log.warn('cannot reach the proxy; trying the next one', {
            from: dial.address,
            to: this.dialling.address,
            error: (e as Error).message,
          });
          continue;
        }
        throw unreached.length > 1 && unreached.length === tried ? noProxyAnswered(unreached) : mapped;
      }
    }
  }
}
