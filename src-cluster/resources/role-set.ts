// A user's roles, compiled once (templates expanded, selectors compiled) and asked pure
// questions: may this login reach this node, may this verb touch this kind, how long may a
// session last. Deny always beats allow. Reasons are written for the person who was refused
// and for the audit log, so they name the node, the login and the roles involved.
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { parseDurationMs } from './duration.ts';
import { compileSelector, type LabelMatcher, type NodeLabels } from './labels.ts';
import {
  DEFAULT_MAX_SESSIONS,
  loginProblem,
  loginTemplateTrait,
  type RoleConditions,
  type RoleResource,
  type RoleRule,
  type RoleVerb,
} from './role.ts';
import type { UserResource, UserTraits } from './user.ts';

export interface NodeInfo {
  name: string;
  labels: NodeLabels;
}

export type AccessDecision = { allowed: true } | { allowed: false; reason: string };

interface CompiledConditions {
  logins: string[];
  nodes: LabelMatcher;
  rules: RoleRule[];
}

interface CompiledRole {
  name: string;
  allow: CompiledConditions;
  deny: CompiledConditions;
  maxSessionTtlMs: number | undefined;
  deviceTrustMode: string | undefined;
  maxSessions: number | undefined;
  disconnectExpiredCert: boolean;
  portForwarding: boolean;
  forwardAgent: boolean;
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

function expandLogins(entries: readonly string[], traits: UserTraits): string[] {
  const out: string[] = [];
  for (const entry of entries) {
    const trait = loginTemplateTrait(entry);
    // Trait values may one day come from an identity provider; only well-formed logins become
    // certificate principals.
    const values = trait ? (traits[trait] ?? []).filter((v) => loginProblem(v) === undefined) : [entry];
    for (const v of values) if (!out.includes(v)) out.push(v);
  }
  return out;
}

function compileConditions(c: RoleConditions | undefined, traits: UserTraits): CompiledConditions {
  return {
    logins: expandLogins(c?.logins ?? [], traits),
    nodes: compileSelector(c?.node_labels),
    rules: c?.rules ?? [],
  };
}

function ruleMatches(rules: readonly RoleRule[], kind: string, verb: RoleVerb): boolean {
  return rules.some(
    (r) =>
      (r.resources.includes('*') || r.resources.includes(kind)) && (r.verbs.includes('*') || r.verbs.includes(verb)),
  );
}

/** " by role a" / " by roles a, b", or why there is nobody to ask. */
function byRoles(names: readonly string[]): string {
  if (names.length === 0) return ': the user has no roles';
  return ` by ${names.length === 1 ? 'role' : 'roles'} ${names.join(', ')}`;
}

export class RoleSet {
  readonly #roles: CompiledRole[];

  constructor(roles: readonly RoleResource[], traits: UserTraits) {
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

  /** May `login` be used on `node`? Deny rules are checked first and win. */
  checkNodeAccess(node: NodeInfo, login: string): AccessDecision {
    const deniedNode = this.#roles.filter((r) => r.deny.nodes(node.labels)).map((r) => r.name);
    if (deniedNode.length > 0) {
      return { allowed: false, reason: `access to node "${node.name}" is denied${byRoles(deniedNode)}` };
    }
    const deniedLogin = this.#roles.filter((r) => r.deny.logins.includes(login)).map((r) => r.name);
    if (deniedLogin.length > 0) {
      return { allowed: false, reason: `login "${login}" is denied${byRoles(deniedLogin)}` };
    }
    const matching = this.#roles.filter((r) => r.allow.nodes(node.labels));
    if (matching.length === 0) {
      if (this.#roles.length === 0)
        return { allowed: false, reason: `login "${login}" is not allowed on node "${node.name}"${byRoles([])}` };
      return {
        allowed: false,
        reason: `node "${node.name}" is not allowed${byRoles(this.roleNames)}: no role's node_labels match the node's labels`,
      };
    }
    if (matching.some((r) => r.allow.logins.includes(login))) return { allowed: true };
    return {
      allowed: false,
      reason: `login "${login}" is not allowed on node "${node.name}"${byRoles(this.roleNames)}`,
    };
  }

  /**
   * The device_trust_mode of each role whose allow rules grant `login` on `node` (undefined =
   * unset). Call after checkNodeAccess allowed it: these are the roles whose mode applies.
   */
  grantingDeviceTrustModes(node: NodeInfo, login: string): (string | undefined)[] {
    return this.#roles
      .filter((r) => r.allow.nodes(node.labels) && r.allow.logins.includes(login))
      .map((r) => r.deviceTrustMode);
  }

  /** Should `node` appear in the user's node list? Labels only, like access without a login. */
  canSeeNode(node: NodeInfo): boolean {
    if (this.#roles.some((r) => r.deny.nodes(node.labels))) return false;
    return this.#roles.some((r) => r.allow.nodes(node.labels));
  }

  /** Logins the user may use on `node` (e.g. the "connect as" choices in the desktop app). */
  loginsForNode(node: NodeInfo): string[] {
    if (!this.canSeeNode(node)) return [];
    const denied = this.#deniedLogins();
    const out: string[] = [];
    for (const r of this.#roles) {
      if (!r.allow.nodes(node.labels)) continue;
      for (const l of r.allow.logins) if (!denied.has(l) && !out.includes(l)) out.push(l);
    }
    return out;
  }

  /** Union of allowed logins minus denied ones, in role order: the certificate's principals. */
  allowedLogins(): string[] {
    const denied = this.#deniedLogins();
    const out: string[] = [];
    for (const r of this.#roles) for (const l of r.allow.logins) if (!denied.has(l) && !out.includes(l)) out.push(l);
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
    return new Set(this.#roles.flatMap((r) => r.deny.logins));
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
