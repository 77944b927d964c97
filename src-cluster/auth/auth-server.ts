// The auth service: owns users' credentials, issues certificates, keeps the node registry.
// Everything a login or a certificate depends on goes through here, so every refusal is
// decided and logged in one place.
import { createPublicKey, randomBytes, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Backend, BatchOp } from '../storage/backend.ts';
import { ResourceStore, type Resource } from '../storage/resources.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import {
  formatCertificateLine,
  parseAuthorizedKey,
  signCertificate,
  STANDARD_USER_EXTENSIONS,
  wireToPublicKey,
  publicKeyToWire,
} from '../../src-shared/sshcert/index.ts';
import { DEFAULT_CERT_TTL_MS, SSH_EXT_CLUSTER, SSH_EXT_ROLES } from '../../src-shared/cert-fields.ts';
import type { Logger } from '../log/logger.ts';
import type { CertAuthorities } from './authorities.ts';
import { issueClientCert, issueServerCert } from './x509.ts';
import {
  hashPassword,
  verifyPassword,
  DUMMY_PASSWORD_HASH,
  newToken,
  tokenHash,
  MIN_PASSWORD_LENGTH,
} from './passwords.ts';
import { checkOtp, newOtpSecret, otpUri } from './otp.ts';
import { FailureLimiter } from './ratelimit.ts';
import type { AccessChecker } from '../authz/access.ts';
import { discardAudit, type AuditEmitter } from '../audit/audit-events.ts';
import { recordRefusal } from '../audit/audit-emit.ts';
import { accessTargets } from '../locks/lock-targets.ts';
import { requireCurrentAdminCert } from './admin-cert.ts';

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
}

export interface AuthSettings {
  clusterName: string;
  /** Used when no preference source is given (tests, tools); the daemon passes one. */
  secondFactor: 'off' | 'otp';
  certTtlMs: number;
}

/** Where the live second factor comes from: the cluster auth preference, read per request. */
export interface SecondFactorSource {
  secondFactor(): 'off' | 'otp';
}

const GENERIC_LOGIN_FAILURE = 'invalid user name, password or one-time code';
const NODE_TTL_MS = 30_000;
const TOKEN_TTL_MS = 3600_000;

export class AuthServer {
  readonly nodes: ResourceStore<NodeSpec>;
  private readonly userLimiter = new FailureLimiter({ maxFailures: 5, windowMs: 60_000 });
  private readonly addressLimiter = new FailureLimiter({ maxFailures: 20, windowMs: 60_000 });

  constructor(
    private readonly backend: Backend,
    readonly cas: CertAuthorities,
    readonly settings: AuthSettings,
    readonly access: AccessChecker,
    private readonly log: Logger,
    private readonly preference?: SecondFactorSource,
    private readonly audit: AuditEmitter = discardAudit,
  ) {
    this.nodes = new ResourceStore<NodeSpec>(backend, { kind: 'node' });
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
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new GatehouseError(
        ErrorCode.BAD_REQUEST,
        `password too short: use at least ${MIN_PASSWORD_LENGTH} characters`,
      );
    }
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
    if (!item)
      throw new GatehouseError(
        ErrorCode.BAD_CREDENTIALS,
        'password-set token is invalid, used or expired; ask your administrator for a new one',
      );
    const { user } = JSON.parse(item.value) as { user: string };
    const result = await this.setPassword(user, password);
    await this.backend.delete(key).catch(() => undefined);
    return { user, ...result };
  }

  // ---- login -------------------------------------------------------------------------------

  async login(input: LoginInput): Promise<IssuedCerts> {
    const userKey = `user:${input.user}`;
    const addrKey = `addr:${input.clientAddress}`;
    const wait = Math.max(this.userLimiter.retryAfterMs(userKey), this.addressLimiter.retryAfterMs(addrKey));
    const method = this.secondFactor() === 'otp' ? 'otp' : 'password';
    const loginFields = { method, client_address: input.clientAddress };
    if (wait > 0) {
      this.log.warn('login refused: rate limited', { user: input.user, client: input.clientAddress });
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
    const fail = async (why: string): Promise<never> => {
      this.userLimiter.recordFailure(userKey);
      this.addressLimiter.recordFailure(addrKey);
      this.log.warn('login failed', { user: input.user, client: input.clientAddress, reason: why });
      await recordRefusal(
        this.audit,
        { type: 'user.login', success: false, user: input.user, message: why, fields: loginFields },
        this.log,
      );
      throw new GatehouseError(ErrorCode.BAD_CREDENTIALS, GENERIC_LOGIN_FAILURE);
    };

    const user = await this.access.findUser(input.user);
    const creds = user ? await this.getCredentials(input.user) : undefined;
    // Always spend the KDF, so a missing user answers as slowly as a wrong password.
    const passwordOk = await verifyPassword(input.password, creds?.passwordHash ?? DUMMY_PASSWORD_HASH);
    if (!user) return fail('no such user');
    if (!creds?.passwordHash) return fail('user has no password set');
    if (!passwordOk) return fail('wrong password');
    if (this.secondFactor() === 'otp') {
      if (!creds.otpSecret) return fail('OTP required but the user has no OTP device');
      const otp = checkOtp(creds.otpSecret, input.otp, creds.otpLastStep);
      if (!otp.ok) return fail('wrong or reused one-time code');
      await this.putCredentials(input.user, { ...creds, otpLastStep: otp.step });
    }
    this.userLimiter.reset(userKey);

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
    const certs = await this.issueUserCerts(input.user, publicKey, input.ttlSeconds * 1000);
    // Both recorded before the certificates leave; if the audit log cannot take them, no login.
    await this.audit.emit({ type: 'user.login', success: true, user: input.user, fields: loginFields });
    await this.audit.emit({
      type: 'cert.create',
      success: true,
      user: certs.user,
      fields: {
        roles: certs.roles,
        logins: certs.logins,
        expires: certs.expires.toISOString(),
        client_address: input.clientAddress,
      },
    });
    this.log.info('login succeeded', {
      user: input.user,
      client: input.clientAddress,
      expires: certs.expires.toISOString(),
    });
    return certs;
  }

  async issueUserCerts(userName: string, publicKey: KeyObject, requestedTtlMs: number): Promise<IssuedCerts> {
    const ctx = await this.access.forUser(userName);
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
        ...STANDARD_USER_EXTENSIONS,
        [SSH_EXT_ROLES]: JSON.stringify(ctx.roles),
        [SSH_EXT_CLUSTER]: this.settings.clusterName,
      },
      caPrivateKey: this.cas.sshUser.privateKey,
    });
    const tlsCertificate = await issueClientCert({
      ca: this.cas.tlsUser.material,
      publicKey,
      notBefore,
      notAfter: expires,
      user: userName,
      roles: ctx.roles,
      logins,
    });
    return {
      sshCertificate: formatCertificateLine(sshBlob, userName),
      tlsCertificate,
      user: userName,
      roles: ctx.roles,
      logins,
      expires,
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
