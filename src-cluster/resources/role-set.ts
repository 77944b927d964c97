// A user's roles, compiled once (templates expanded, selectors compiled) and asked pure
// questions: which logins may the user's certificate carry, may this verb touch this kind, how
// long may a session last. Deny always beats allow. The per-resource decision (may this login
// reach this node, this db user this database, ...) is the authorizer's (src-cluster/authz/),
// which reads the compiled roles through `compiled`. Reasons are written for the person who was
// refused and for the audit log, so they name the kind, the verb and the roles involved.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { parseDurationMs } from './duration.ts';
import { compileSelector, type LabelMatcher, type NodeLabels } from './labels.ts';
import { DEFAULT_MAX_SESSIONS, type RoleConditions, type RoleResource, type RoleRule, type RoleVerb } from './role.ts';
import {
  expandPrincipals,
  LABEL_FIELDS,
  PRINCIPAL_FIELDS,
  type LabelField,
  type PrincipalField,
  type PrincipalTraits,
} from './role-principals.ts';
import type { UserResource } from './user.ts';

export interface NodeInfo {
  name: string;
  labels: NodeLabels;
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

/** One allow or deny section, ready to match: a matcher per label field, principals expanded. */
export interface CompiledConditions {
  readonly labels: Readonly<Record<LabelField, LabelMatcher>>;
  readonly principals: Readonly<Record<PrincipalField, readonly string[]>>;
  readonly rules: readonly RoleRule[];
}

export interface CompiledRole {
  readonly name: string;
  readonly allow: CompiledConditions;
  readonly deny: CompiledConditions;
  readonly maxSessionTtlMs: number | undefined;
  /** options.device_trust_mode as written (undefined = unset); the authorizer validates it. */
  readonly deviceTrustMode: string | undefined;
  readonly maxSessions: number | undefined;
  readonly disconnectExpiredCert: boolean;
  readonly portForwarding: boolean;
  readonly forwardAgent: boolean;
}

/** What the node enforces for an SSH connection, from the role options. */
export interface SshSessionLimits {
  /** Session channels one connection may hold open. */
  maxSessions: number;
  /** The roles whose max_sessions set it (empty: the default applies); named in the refusal. */
  maxSessionsRoles: string[];
  /** Close live sessions when the certificate expires. */
  disconnectExpiredCert: boolean;
}

function compileConditions(c: RoleConditions | undefined, traits: PrincipalTraits): CompiledConditions {
  const labels = {} as Record<LabelField, LabelMatcher>;
  for (const field of LABEL_FIELDS) labels[field] = compileSelector(c?.[field]);
  const principals = {} as Record<PrincipalField, readonly string[]>;
  for (const field of PRINCIPAL_FIELDS) principals[field] = expandPrincipals(field, c?.[field] ?? [], traits);
  return { labels, principals, rules: c?.rules ?? [] };
}

function ruleMatches(rules: readonly RoleRule[], kind: string, verb: RoleVerb): boolean {
  return rules.some(
    (r) =>
      (r.resources.includes('*') || r.resources.includes(kind)) && (r.verbs.includes('*') || r.verbs.includes(verb)),
  );
}

/** " by role a" / " by roles a, b", or why there is nobody to ask. */
export function byRoles(names: readonly string[]): string {
  if (names.length === 0) return ': the user has no roles';
  return ` by ${names.length === 1 ? 'role' : 'roles'} ${names.join(', ')}`;
}

export class RoleSet {
  readonly #roles: CompiledRole[];

  constructor(roles: readonly RoleResource[], traits: PrincipalTraits) {
    const seen = new Set<string>();
    this.#roles = [];
    for (const role of roles) {
      if (seen.has(role.metadata.name)) continue;
      seen.add(role.metadata.name);
      const ttl = role.spec.options?.max_session_ttl;
      this.#roles.push({
        name: role.metadata.name,
        allow: compileConditions(role.spec.allow, traits),
        deny: compileConditions(role.spec.deny, traits),
        maxSessionTtlMs: ttl === undefined ? undefined : parseDurationMs(ttl),
        deviceTrustMode: role.spec.options?.device_trust_mode,
        maxSessions: role.spec.options?.max_sessions,
        disconnectExpiredCert: role.spec.options?.disconnect_expired_cert === true,
        portForwarding: role.spec.options?.port_forwarding === true,
        forwardAgent: role.spec.options?.forward_agent === true,
      });
    }
  }

  get roleNames(): string[] {
    return this.#roles.map((r) => r.name);
  }

  /** The compiled roles, for the authorizer's per-kind matchers. */
  get compiled(): readonly CompiledRole[] {
    return this.#roles;
  }

  /**
   * Should a resource with `labels` appear in the user's list of that kind (`field` names the
   * kind's selector)? Labels only, like access without a principal; deny wins.
   */
  canSee(field: LabelField, labels: NodeLabels): boolean {
    if (this.#roles.some((r) => r.deny.labels[field](labels))) return false;
    return this.#roles.some((r) => r.allow.labels[field](labels));
  }

  /** Should `node` appear in the user's node list? */
  canSeeNode(node: NodeInfo): boolean {
    return this.canSee('node_labels', node.labels);
  }

  /** Logins the user may use on `node` (e.g. the "connect as" choices in the desktop app). */
  loginsForNode(node: NodeInfo): string[] {
    if (!this.canSeeNode(node)) return [];
    const denied = this.#deniedLogins();
    const out: string[] = [];
    for (const r of this.#roles) {
      if (!r.allow.labels.node_labels(node.labels)) continue;
      for (const l of r.allow.principals.logins) if (!denied.has(l) && !out.includes(l)) out.push(l);
    }
    return out;
  }

  /** Union of allowed logins minus denied ones, in role order: the certificate's principals. */
  allowedLogins(): string[] {
    const denied = this.#deniedLogins();
    const out: string[] = [];
    for (const r of this.#roles)
      for (const l of r.allow.principals.logins) if (!denied.has(l) && !out.includes(l)) out.push(l);
    return out;
  }

  /** The strictest max_session_ttl among the roles, or `defaultMs` when no role sets one. */
  maxSessionTtlMs(defaultMs: number): number {
    const limits = this.#roles.map((r) => r.maxSessionTtlMs).filter((v): v is number => v !== undefined);
    return limits.length === 0 ? defaultMs : Math.min(...limits);
  }

  /**
   * SSH limits: the lowest max_sessions among the roles (DEFAULT_MAX_SESSIONS when none sets
   * it); disconnect_expired_cert when any role asks for it (the stricter choice wins both).
   */
  sshSessionLimits(): SshSessionLimits {
    const setting = this.#roles.filter((r) => r.maxSessions !== undefined);
    const maxSessions = setting.length === 0 ? DEFAULT_MAX_SESSIONS : Math.min(...setting.map((r) => r.maxSessions!));
    return {
      maxSessions,
      maxSessionsRoles: setting.filter((r) => r.maxSessions === maxSessions).map((r) => r.name),
      disconnectExpiredCert: this.#roles.some((r) => r.disconnectExpiredCert),
    };
  }

  /**
   * The permit-* extensions of the user's SSH certificate. A stock sshd trusting the user CA
   * grants exactly these, so only what a role grants goes in: forwarding when any role sets
   * port_forwarding / forward_agent; never X11 or user rc (no role option grants them).
   */
  sshCertPermits(): Record<string, string> {
    const permits: Record<string, string> = { 'permit-pty': '' };
    if (this.#roles.some((r) => r.portForwarding)) permits['permit-port-forwarding'] = '';
    if (this.#roles.some((r) => r.forwardAgent)) permits['permit-agent-forwarding'] = '';
    return permits;
  }

  /** May the user perform `verb` on resources of `kind` (admin API, gatectl)? */
  checkResourceAccess(kind: string, verb: RoleVerb): AccessDecision {
    const denied = this.#roles.filter((r) => ruleMatches(r.deny.rules, kind, verb)).map((r) => r.name);
    if (denied.length > 0)
      return { allowed: false, reason: `verb "${verb}" on kind "${kind}" is denied${byRoles(denied)}` };
    if (this.#roles.some((r) => ruleMatches(r.allow.rules, kind, verb))) return { allowed: true };
    return { allowed: false, reason: `verb "${verb}" on kind "${kind}" is not allowed${byRoles(this.roleNames)}` };
  }

  #deniedLogins(): Set<string> {
    return new Set(this.#roles.flatMap((r) => r.deny.principals.logins));
  }
}

/**
 * The role set for `user`, taking the roles it names from `available` (e.g. everything in
 * storage). A user naming a role that does not exist is refused rather than silently given
 * less, so a typo in `gatectl` shows up at login instead of as a mystery denial later.
 */
export function roleSetForUser(user: UserResource, available: Iterable<RoleResource>): RoleSet {
  const byName = new Map<string, RoleResource>();
  for (const role of available) byName.set(role.metadata.name, role);
  const roles = user.spec.roles.map((name) => {
    const role = byName.get(name);
    if (!role) {
      throw new GatehouseError(
        ErrorCode.NOT_FOUND,
        `user "${user.metadata.name}" has role "${name}", which does not exist`,
        { user: user.metadata.name, role: name },
      );
    }
    return role;
  });
  return new RoleSet(roles, user.spec.traits ?? {});
}
