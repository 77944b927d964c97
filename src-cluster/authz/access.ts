// The one authorizer's host. Every access path (the proxy, the node, the API, later the db, app
// and kube services) turns a certificate identity into a decision here: identity → role set
// (roles named in the cert, traits from the stored user) → the shared decision in authorize.ts
// (locks, roles through the kind's matcher, device trust) → allowed with the kind's limits, or
// refused with a reason that is shown and logged. A service builds one AccessChecker over its
// local view of users, roles, locks and the cluster's device trust mode (see README.md).
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { BUILTIN_ADMIN_USER, SSH_EXT_ROLES, sshDeviceFields } from '../../src-shared/cert-fields.ts';
import type { SshCertificate } from '../../src-shared/sshcert/index.ts';
import type { ResourceStore } from '../storage/resources.ts';
import type { Logger } from '../log/logger.ts';
import type { RoleResource, RoleSpec } from '../resources/role.ts';
import { RoleSet, type SshSessionLimits } from '../resources/role-set.ts';
import type { UserResource } from '../resources/user.ts';
import type { LockCheck, LockChecker, LockTarget } from '../resources/lock.ts';
import { authorize, type AccessDecision, type AccessIdentity, type AccessRequest } from './authorize.ts';
import { authorizeApp, type AppAccessDecision, type AppTarget } from './app-access.ts';
import { DEFAULT_CLUSTER_DEVICE_TRUST_MODE } from './device-trust-mode.ts';
import type { AccessKind, KindLimits } from './matchers/index.ts';

type UserSpec = UserResource['spec'];

export interface Identity {
  user: string;
  roles: string[];
}

export interface NodeTarget {
  name: string;
  labels: Record<string, string>;
}

/** `recorded`: the denial is already in the audit log, so the caller need not record it again. */
export type Decision = { allowed: true } | { allowed: false; reason: string; recorded?: boolean };

/**
 * The one audit event the authorizer writes (a refusal by lock). Declared here rather than
 * imported from the audit service, which sits above authz; an AuditEmitter fits it.
 */
export interface AccessDeniedEvent {
  type: 'access.denied';
  success: false;
  user?: string;
  message?: string;
  fields?: Record<string, unknown>;
}

export interface AccessAudit {
  emit(event: AccessDeniedEvent): Promise<void>;
}

const discardAudit: AccessAudit = { emit: async () => {} };

/** An SSH decision; when allowed it carries the role options the node enforces on the connection. */
export type SshDecision = { allowed: true; limits: SshSessionLimits } | Extract<Decision, { allowed: false }>;

export interface UserAccess {
  user: string;
  roles: string[];
  logins: string[];
  roleSet: RoleSet;
  /** Bots (user.spec.is_bot) are exempt from the cluster's required-for-humans mode. */
  isBot: boolean;
  maxSessionTtlMs(defaultMs: number): number;
}

export interface AccessCheckerOptions {
  /** The cluster's current device trust mode (cluster_auth_preference); read per decision. */
  clusterDeviceTrustMode?: () => string | Promise<string>;
  /** The service's lock view; without one nothing is ever locked (tests, tools). */
  locks?: LockChecker;
  /** Where lock refusals are recorded; without one they are only logged (unit tests). */
  audit?: AccessAudit;
}

export class AccessChecker {
  private readonly clusterDeviceTrustMode: () => string | Promise<string>;
  private readonly locks: LockChecker | undefined;
  private readonly audit: AccessAudit;

  constructor(
    private readonly users: ResourceStore<UserSpec>,
    private readonly roles: ResourceStore<RoleSpec>,
    private readonly log: Logger,
    options: AccessCheckerOptions = {},
  ) {
    this.clusterDeviceTrustMode = options.clusterDeviceTrustMode ?? (() => DEFAULT_CLUSTER_DEVICE_TRUST_MODE);
    this.locks = options.locks;
    this.audit = options.audit ?? discardAudit;
  }

  /**
   * The lock check every grant goes through: a decision naming the lock in force (or the
   * preventive lock-out when the lock view is unreliable under locking_mode strict).
   */
  async checkLocks(targets: LockTarget[], context: Record<string, unknown> = {}): Promise<Decision> {
    const result = this.locks?.check(targets) ?? { locked: false };
    if (!result.locked) return { allowed: true };
    const user = targets.find((t) => t.kind === 'user')?.value;
    this.log.warn('access denied: lock in force', { ...context, user, reason: result.message });
    await this.audit.emit({
      type: 'access.denied',
      success: false,
      user,
      message: result.message,
      fields: { reason: 'lock in force', ...(result.lockName ? { lock: result.lockName } : {}), ...context },
    });
    return { allowed: false, reason: result.message, recorded: true };
  }

  /**
   * The lock in force on these targets, if any, without recording a refusal: for reporting a
   * caller's own standing (GetDeviceStatus), which grants nothing.
   */
  lockInForce(targets: LockTarget[]): LockCheck {
    return this.locks?.check(targets) ?? { locked: false };
  }

  /** For certificate issuance: throws ACCESS_DENIED with the lock message while a lock matches. */
  async requireNoLock(targets: LockTarget[], context: Record<string, unknown> = {}): Promise<void> {
    const d = await this.checkLocks(targets, context);
    if (!d.allowed) throw new GatehouseError(ErrorCode.ACCESS_DENIED, d.reason, { reason: 'locked' });
  }

  async findUser(name: string): Promise<UserResource | undefined> {
    if (name === BUILTIN_ADMIN_USER) return undefined;
    return (await this.users.find(name).catch(() => undefined)) as UserResource | undefined;
  }

  /** Role set of a stored user, as used at login. */
  async forUser(name: string): Promise<UserAccess> {
    const user = await this.findUser(name);
    if (!user) throw new GatehouseError(ErrorCode.NOT_FOUND, `user "${name}" not found`);
    return this.build(name, user.spec.roles, user);
  }

  /** forUser() for a user the caller has just read from storage (a login): no second read. */
  async forStoredUser(user: UserResource): Promise<UserAccess> {
    return this.build(user.metadata.name, user.spec.roles, user);
  }

  /** Role set for a certificate identity; the roles come from the certificate, traits from the user. */
  async forIdentity(id: Identity): Promise<UserAccess> {
    const user = await this.findUser(id.user);
    if (!user && id.user !== BUILTIN_ADMIN_USER) {
      throw new GatehouseError(ErrorCode.ACCESS_DENIED, `user "${id.user}" no longer exists`);
    }
    return this.build(id.user, id.roles, user);
  }

  private async build(name: string, roleNames: string[], user: UserResource | undefined): Promise<UserAccess> {
    const roles: RoleResource[] = [];
    for (const r of roleNames) {
      const role = (await this.roles.find(r).catch(() => undefined)) as RoleResource | undefined;
      if (role) roles.push(role);
      else this.log.warn('user refers to a role that does not exist; ignoring it', { user: name, role: r });
    }
    const roleSet = new RoleSet(roles, user?.spec.traits ?? {});
    return {
      user: name,
      roles: roles.map((r) => r.metadata.name),
      logins: roleSet.allowedLogins(),
      roleSet,
      isBot: user?.spec.is_bot === true,
      maxSessionTtlMs: (d) => roleSet.maxSessionTtlMs(d),
    };
  }

  /**
   * The decision for any kind of access: `resource.kind` picks the kind's matcher ("node", "db",
   * "app", "kube_cluster"). Never throws; a refusal carries the reason to show and log.
   */
  async authorize<K extends AccessKind>(request: AccessRequest<K>): Promise<AccessDecision<KindLimits[K]>> {
    return authorize(
      {
        checkLocks: (targets, context) => this.checkLocks(targets, context),
        resolveRoles: (identity) => this.forIdentity({ user: identity.user, roles: [...identity.roles] }),
        clusterDeviceTrustMode: () => this.clusterDeviceTrustMode(),
        log: this.log,
      },
      request,
    );
  }

  /** SSH session on a node: called by the node after the certificate itself verified. */
  async authorizeSsh(cert: SshCertificate, login: string, node: NodeTarget): Promise<SshDecision> {
    let roles: string[] = [];
    try {
      const parsed: unknown = JSON.parse(cert.extensions[SSH_EXT_ROLES] ?? '[]');
      if (Array.isArray(parsed)) roles = parsed.filter((r): r is string => typeof r === 'string');
    } catch {
      return { allowed: false, reason: 'certificate carries malformed roles; log in again' };
    }
    const device = sshDeviceFields(cert);
    return this.authorize({
      identity: { user: cert.keyId, roles, ...(device ? { device } : {}) },
      resource: { kind: 'node', name: node.name, labels: node.labels },
      action: { login },
    });
  }

  /**
   * An app connection or request (the app service): kind "app", device trust from the granting
   * roles only, the refusal with its code and the words the denial page shows. Never throws.
   */
  async authorizeApp(identity: AccessIdentity, app: AppTarget): Promise<AppAccessDecision> {
    return authorizeApp((request) => this.authorize(request), identity, app);
  }

  /** Throws ACCESS_DENIED unless some role grants `verb` on `kind`. */
  async requireResourceAccess(
    id: Identity,
    kind: string,
    verb: 'list' | 'read' | 'create' | 'update' | 'delete',
  ): Promise<void> {
    const access = await this.forIdentity(id);
    if (!access.roleSet.checkResourceAccess(kind, verb).allowed) {
      this.log.warn('resource access denied', { user: id.user, kind, verb });
      throw new GatehouseError(
        ErrorCode.ACCESS_DENIED,
        `access denied: user "${id.user}" may not ${verb} ${kind} resources`,
      );
    }
  }
}
