// The auth service: owns users' credentials, issues certificates, keeps the node registry.
// Everything a login or a certificate depends on goes through here, so every refusal is
// decided and logged in one place.
import { createPublicKey, randomBytes, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { UserResource } from '../resources/user.ts';
import type { Backend, BatchOp } from '../storage/backend.ts';
import { ResourceStore, type Resource } from '../storage/resources.ts';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import {
  formatCertificateLine,
  parseAuthorizedKey,
  signCertificate,
  wireToPublicKey,
  publicKeyToWire,
} from '../../src-shared/sshcert/index.ts';
import { DEFAULT_CERT_TTL_MS, SSH_EXT_CLUSTER, SSH_EXT_ROLES } from '../../src-shared/cert-fields.ts';
import type { Logger } from '../log/logger.ts';
import type { CertAuthorities } from './authorities.ts';
import { issueClientCert, issueServerCert, type ClientCertContents } from './x509.ts';
import {
  hashPassword,
  verifyPassword,
  dummyPasswordHash,
  newToken,
  tokenHash,
  checkPasswordPolicy,
} from './passwords.ts';
import { checkOtp, newOtpSecret, otpUri } from './otp.ts';
import { FailureLimiter } from './ratelimit.ts';
import type { AccessChecker } from '../authz/access.ts';
import { boundedUserName, discardAudit, type AuditBatchEmitter } from '../audit/audit-events.ts';
import { recordRefusal } from '../audit/audit-emit.ts';
import { accessTargets } from '../locks/lock-targets.ts';
import { nameProblem } from '../resources/fields.ts';
import { DEFAULT_LOCKOUT, LoginLockout, type Lockout, type LockoutSettings } from './login-lockout.ts';
import { requireCurrentAdminCert } from './admin-cert.ts';
import { DatabaseCatalog } from './db-catalog.ts';
import { AppCatalog } from './app-catalog.ts';
import { AppTokenSigner } from './app-tokens.ts';

export interface Credentials {
  passwordHash?: string;
  otpSecret?: string;
  otpLastStep?: number;
}

export interface NodeSpec {
  address: string;
  hostname: string;
  labels: Record<string, string>;
}

export interface LoginInput {
  user: string;
  password: string;
  otp: string;
  publicKey: string;
  ttlSeconds: number;
  clientAddress: string;
}

export interface IssuedCerts {
  sshCertificate: string;
  tlsCertificate: string;
  user: string;
  roles: string[];
  logins: string[];
  expires: Date;
  /** What tlsCertificate certifies, as it was signed (a device challenge's answer needs no parse of it). */
  tlsContents: ClientCertContents;
}

export interface AuthSettings {
  clusterName: string;
  /** Used when no preference source is given (tests, tools); the daemon passes one. */
  secondFactor: 'off' | 'otp';
  certTtlMs: number;
  /** Account lockout after failed logins (config `auth.lockout`); DEFAULT_LOCKOUT when absent. */
  lockout?: LockoutSettings;
}

/** Where the live second factor comes from: the cluster auth preference, read per request. */
export interface SecondFactorSource {
  secondFactor(): 'off' | 'otp';
}

const GENERIC_LOGIN_FAILURE = 'invalid user name, password or one-time code';
const NODE_TTL_MS = 30_000;
const TOKEN_TTL_MS = 3600_000;
const INVALID_TOKEN = 'password-set token is invalid, used or expired; ask your administrator for a new one';

function lockoutFields(lockout: Lockout | undefined): Record<string, string> {
  if (!lockout) return {};
  return { locked_until: lockout.until.toISOString(), ...(lockout.lock ? { lock: lockout.lock } : {}) };
}

export class AuthServer {
  readonly nodes: ResourceStore<NodeSpec>;
  /** kind "db": created by admins (gatectl) or registered by db services from their configuration. */
  readonly databases: DatabaseCatalog;
  /** kind "app": created by admins (gatectl) or registered by app services from their configuration. */
  readonly apps: AppCatalog;
  /** Signs the JWTs app services put on upstream requests; publishes the JWKS. */
  readonly appTokens: AppTokenSigner;
  /** Per-account defence, stored (see login-lockout.ts); the address throttle below stays in memory. */
  readonly lockout: LoginLockout;
  private readonly addressLimiter = new FailureLimiter({ maxFailures: 20, windowMs: 60_000 });

  constructor(
    private readonly backend: Backend,
    readonly cas: CertAuthorities,
    readonly settings: AuthSettings,
    readonly access: AccessChecker,
    private readonly log: Logger,
    private readonly preference?: SecondFactorSource,
    private readonly audit: AuditBatchEmitter = { ...discardAudit, emitMany: async () => {} },
  ) {
    this.nodes = new ResourceStore<NodeSpec>(backend, { kind: 'node' });
    this.databases = new DatabaseCatalog(backend, log);
    this.apps = new AppCatalog(backend, log);
    this.appTokens = new AppTokenSigner(cas.jwt, settings.clusterName);
    this.lockout = new LoginLockout({ backend, settings: settings.lockout ?? DEFAULT_LOCKOUT, log, audit });
  }

  /** The second factor in force now (the cluster auth preference can change it at any time). */
  secondFactor(): 'off' | 'otp' {
    return this.preference ? this.preference.secondFactor() : this.settings.secondFactor;
  }

  /** CERT_INVALID unless this is the newest admin identity's certificate (see admin-cert.ts). */
  requireCurrentAdminCert(certDer: Buffer | undefined): Promise<void> {
    return requireCurrentAdminCert(this.backend, certDer);
  }

  // ---- credentials -------------------------------------------------------------------------

  private credKey(user: string) {
    return `/credentials/${user}`;
  }

  async getCredentials(user: string): Promise<Credentials | undefined> {
    const item = await this.backend.get(this.credKey(user));
    return item ? (JSON.parse(item.value) as Credentials) : undefined;
  }

  private async putCredentials(user: string, c: Credentials): Promise<void> {
    await this.backend.put({ key: this.credKey(user), value: JSON.stringify(c) });
  }

  async deleteCredentials(user: string): Promise<void> {
    await this.backend.delete(this.credKey(user)).catch(() => undefined);
  }

  /**
   * The write that gives `user` this password (not applied), so a new user and its credentials
   * can be stored in one transaction. Returns the OTP URI when OTP is on.
   */
  async passwordWrite(user: string, password: string): Promise<{ op: BatchOp; otpUri?: string }> {
    checkPasswordPolicy(password);
    const creds: Credentials = { passwordHash: await hashPassword(password) };
    if (this.secondFactor() === 'otp') creds.otpSecret = newOtpSecret();
    const op: BatchOp = { type: 'put', item: { key: this.credKey(user), value: JSON.stringify(creds) } };
    return creds.otpSecret ? { op, otpUri: otpUri(creds.otpSecret, user, this.settings.clusterName) } : { op };
  }

  /** Sets a password directly (admin, `--password-stdin`). Returns the OTP URI when OTP is on. */
  async setPassword(user: string, password: string): Promise<{ otpUri?: string }> {
    const { op, otpUri: uri } = await this.passwordWrite(user, password);
    await this.backend.batch([op]);
    this.log.info('password set', { user });
    return uri ? { otpUri: uri } : {};
  }

  /** The write that stores a new password-set token for `user` (not applied), and the token. */
  passwordTokenWrite(user: string): { op: BatchOp; token: string; expires: Date } {
    const token = newToken();
    const expires = new Date(Date.now() + TOKEN_TTL_MS);
    const item = { key: `/password_tokens/${tokenHash(token)}`, value: JSON.stringify({ user }), expires };
    return { op: { type: 'put', item }, token, expires };
  }

  async createPasswordToken(user: string): Promise<{ token: string; expires: Date }> {
    const { op, token, expires } = this.passwordTokenWrite(user);
    await this.backend.batch([op]);
    return { token, expires };
  }

  async setPasswordWithToken(token: string, password: string): Promise<{ user: string; otpUri?: string }> {
    const key = `/password_tokens/${tokenHash(token)}`;
    const item = await this.backend.get(key);
    if (!item) throw new GatehouseError(ErrorCode.BAD_CREDENTIALS, INVALID_TOKEN);
    const { user } = JSON.parse(item.value) as { user: string };
    // A password the policy refuses leaves the token usable for a better one (passwordWrite checks it).
    const { op, otpUri: uri } = await this.passwordWrite(user, password);
    // Spending the token and storing the password are one transaction: of concurrent callers only
    // one deletes the token (the rest find it gone: six calls used to all succeed), and a crash in
    // between can no longer leave a spent token and no password.
    try {
      await this.backend.batch([{ type: 'delete', key }, op]);
    } catch (e) {
      if (isGatehouseError(e) && e.code === ErrorCode.NOT_FOUND) {
        throw new GatehouseError(ErrorCode.BAD_CREDENTIALS, INVALID_TOKEN);
      }
      throw e;
    }
    this.log.info('password set', { user });
    return uri ? { user, otpUri: uri } : { user };
  }

  // ---- login -------------------------------------------------------------------------------

  async login(input: LoginInput): Promise<IssuedCerts> {
    const addrKey = `addr:${input.clientAddress}`;
    // The name comes from an unauthenticated client: log lines get a bounded copy (the audit
    // log bounds it itself).
    const shown = boundedUserName(input.user).name;
    const wait = this.addressLimiter.retryAfterMs(addrKey);
    const method = this.secondFactor() === 'otp' ? 'otp' : 'password';
    const loginFields = { method, client_address: input.clientAddress };
    if (wait > 0) {
      this.log.warn('login refused: rate limited', { user: shown, client: input.clientAddress });
      await recordRefusal(
        this.audit,
        { type: 'user.login', success: false, user: input.user, message: 'rate limited', fields: loginFields },
        this.log,
      );
      throw new GatehouseError(
        ErrorCode.RATE_LIMITED,
        `too many failed login attempts; try again in ${Math.ceil(wait / 1000)} s`,
      );
    }
    const user = await this.checkCredentials(input, loginFields);

    let publicKey: KeyObject;
    try {
      publicKey = wireToPublicKey(parseAuthorizedKey(input.publicKey));
    } catch (e) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `public key is not a valid OpenSSH public key: ${(e as Error).message}`,
      );
    }
    if (publicKey.asymmetricKeyType !== 'ec' || publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new GatehouseError(ErrorCode.BAD_REQUEST, 'public key must be ECDSA P-256 (ecdsa-sha2-nistp256)');
    }
    const certs = await this.issueUserCerts(input.user, publicKey, input.ttlSeconds * 1000, user);
    // Both recorded before the certificates leave; if the audit log cannot take them, no login.
    // One transaction for the two: on PostgreSQL each write is a round trip and a turn at the
    // cluster-wide revision lock.
    await this.audit.emitMany([
      { type: 'user.login', success: true, user: input.user, fields: loginFields },
      {
        type: 'cert.create',
        success: true,
        user: certs.user,
        fields: {
          roles: certs.roles,
          logins: certs.logins,
          expires: certs.expires.toISOString(),
          client_address: input.clientAddress,
        },
      },
    ]);
    this.log.info('login succeeded', {
      user: input.user,
      client: input.clientAddress,
      expires: certs.expires.toISOString(),
    });
    return certs;
  }

  /**
   * Password (and OTP) check with the lockout: throws BAD_CREDENTIALS for every wrong input
   * (counted toward the lockout), RATE_LIMITED while a lockout holds. Returns the user it read,
   * so the certificates are issued from it without reading it again.
   */
  private async checkCredentials(input: LoginInput, loginFields: Record<string, string>): Promise<UserResource> {
    const addrKey = `addr:${input.clientAddress}`;
    const shown = boundedUserName(input.user).name;
    const fail = async (why: string, userExists: boolean): Promise<never> => {
      this.addressLimiter.recordFailure(addrKey);
      const lockout = await this.lockout.recordFailure(input.user, userExists, shown).catch((e: unknown) => {
        // The login is refused anyway; a count that could not be stored is an operator's problem.
        this.log.error('failed login could not be counted', { user: shown, error: (e as Error).message });
        return undefined;
      });
      const message = lockout ? `${why}; ${this.lockoutText(lockout)}` : why;
      this.log.warn('login failed', { user: shown, client: input.clientAddress, reason: message });
      const fields = { ...loginFields, ...lockoutFields(lockout) };
      // The audit log bounds the name itself (and records the original length).
      await recordRefusal(
        this.audit,
        { type: 'user.login', success: false, user: input.user, message, fields },
        this.log,
      );
      throw new GatehouseError(ErrorCode.BAD_CREDENTIALS, GENERIC_LOGIN_FAILURE);
    };

    // A name no user can have is not looked up (storage keys are bounded), but costs the same.
    const user = nameProblem(input.user) ? undefined : await this.access.findUser(input.user);
    const creds = user ? await this.getCredentials(input.user) : undefined;
    // Always spend the KDF, so a missing user or one without a password yet answers as slowly
    // as a wrong password.
    const passwordOk = await verifyPassword(input.password, creds?.passwordHash ?? (await dummyPasswordHash()));
    // Locked out: refused whatever the password, and said so (not "wrong password").
    const standing = await this.lockout.standing(input.user);
    if (standing.lockout) await this.refuseLockedOut(input.user, standing.lockout, loginFields);
    if (!user) return fail('no such user', false);
    if (!creds?.passwordHash) return fail('user has no password set', true);
    if (!passwordOk) return fail('wrong password', true);
    if (this.secondFactor() === 'otp') {
      if (!creds.otpSecret) return fail('OTP required but the user has no OTP device', true);
      const otp = checkOtp(creds.otpSecret, input.otp, creds.otpLastStep);
      if (!otp.ok) return fail('wrong or reused one-time code', true);
      await this.putCredentials(input.user, { ...creds, otpLastStep: otp.step });
    }
    if (standing.failuresCounted) await this.lockout.reset(input.user);
    return user;
  }

  private lockoutText(lockout: Lockout): string {
    const { maxAttempts } = this.lockout.settings;
    return `locked until ${lockout.until.toISOString()} after ${maxAttempts} failed login attempts${lockout.lock ? ` (lock ${lockout.lock})` : ''}`;
  }

  /** Refuses a login while a lockout is in force: the same words for known and unknown names. */
  private async refuseLockedOut(user: string, lockout: Lockout, loginFields: Record<string, string>): Promise<never> {
    const shown = boundedUserName(user).name;
    const why = `user is locked: ${this.lockoutText(lockout)}`;
    this.log.warn('login refused: locked out', { user: shown, reason: why });
    const fields = { ...loginFields, ...lockoutFields(lockout) };
    await recordRefusal(this.audit, { type: 'user.login', success: false, user, message: why, fields }, this.log);
    const seconds = Math.max(1, Math.ceil((lockout.until.getTime() - Date.now()) / 1000));
    throw new GatehouseError(
      ErrorCode.RATE_LIMITED,
      `too many failed login attempts; try again in ${seconds} s (user ${JSON.stringify(shown)} is locked; an administrator can lift the lock)`,
      { reason: 'locked' },
    );
  }

  /** `user`: the stored user as the caller just read it (a login), saving a storage read. */
  async issueUserCerts(
    userName: string,
    publicKey: KeyObject,
    requestedTtlMs: number,
    user?: UserResource,
  ): Promise<IssuedCerts> {
    const ctx = user ? await this.access.forStoredUser(user) : await this.access.forUser(userName);
    await this.access.requireNoLock(accessTargets({ user: userName, roles: ctx.roles }), {
      action: 'issue certificates',
    });
    const ttl = Math.min(
      requestedTtlMs > 0 ? requestedTtlMs : this.settings.certTtlMs || DEFAULT_CERT_TTL_MS,
      ctx.maxSessionTtlMs(this.settings.certTtlMs),
    );
    const now = Date.now();
    const notBefore = new Date(now - 60_000);
    const expires = new Date(Math.floor((now + ttl) / 1000) * 1000);
    const logins = ctx.logins;
    const sshBlob = signCertificate({
      publicKey: publicKeyToWire(publicKey),
      type: 'user',
      keyId: userName,
      principals: logins,
      validAfter: BigInt(Math.floor(notBefore.getTime() / 1000)),
      validBefore: BigInt(expires.getTime() / 1000),
      extensions: {
        // Only what the roles grant: a stock sshd trusting the user CA honours these as given.
        ...ctx.roleSet.sshCertPermits(),
        [SSH_EXT_ROLES]: JSON.stringify(ctx.roles),
        [SSH_EXT_CLUSTER]: this.settings.clusterName,
      },
      caPrivateKey: this.cas.sshUser.privateKey,
    });
    const tlsContents: ClientCertContents = {
      publicKey,
      // As the certificate has them: whole seconds.
      notBefore: new Date(Math.floor(notBefore.getTime() / 1000) * 1000),
      notAfter: expires,
      user: userName,
      roles: ctx.roles,
      logins,
    };
    const tlsCertificate = await issueClientCert({ ca: this.cas.tlsUser.material, ...tlsContents });
    return {
      sshCertificate: formatCertificateLine(sshBlob, userName),
      tlsCertificate,
      user: userName,
      roles: ctx.roles,
      logins,
      expires,
      tlsContents,
    };
  }

  // ---- hosts ---------------------------------------------------------------------------------

  /** SSH host certificate for a node's host key (principals: its name and addresses). */
  signHostCert(hostPublicKey: KeyObject, principals: string[], ttlMs = 365 * 24 * 3600_000): Buffer {
    const now = Math.floor(Date.now() / 1000);
    return signCertificate({
      publicKey: publicKeyToWire(hostPublicKey),
      type: 'host',
      keyId: principals[0] ?? 'node',
      principals,
      validAfter: BigInt(now - 60),
      validBefore: BigInt(now + Math.floor(ttlMs / 1000)),
      caPrivateKey: this.cas.sshHost.privateKey,
    });
  }

  /** Server TLS identity (the proxy's): a fresh key and a certificate from the host CA. */
  async issueServerIdentity(
    commonName: string,
    dnsNames: string[],
    ips: string[],
  ): Promise<{ certPem: string; keyPem: string }> {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const now = Date.now();
    const certPem = await issueServerCert({
      ca: this.cas.tlsHost.material,
      publicKey: createPublicKey(privateKey),
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 365 * 24 * 3600_000),
      commonName,
      dnsNames,
      ips,
    });
    return { certPem, keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string };
  }

  async heartbeatNode(name: string, spec: NodeSpec): Promise<void> {
    const expires = new Date(Date.now() + NODE_TTL_MS).toISOString();
    await this.nodes.upsert({ kind: 'node', version: 'v1', metadata: { name, labels: spec.labels, expires }, spec });
  }

  async removeNode(name: string): Promise<void> {
    await this.nodes.delete(name).catch(() => undefined);
  }

  async listNodes(): Promise<Resource<NodeSpec>[]> {
    return this.nodes.list();
  }

  newRequestId(): string {
    return randomBytes(8).toString('hex');
  }
}
