// The role check every kind shares: deny first (a deny section whose labels match the resource,
// or that names a requested principal, refuses, whatever else allows), then allow (one role whose
// labels match the resource must grant every requested principal). The reasons keep the wording
// SSH users and the audit log have always seen ("login "root" is denied by role no-root").
import { byRoles, type CompiledRole, type RoleSet } from '../resources/role-set.ts';
import { principalListMatches, PRINCIPAL_RULES } from '../resources/role-principals.ts';
import type { AccessResource, KindMatcher, RequestedPrincipal } from './matchers/matcher.ts';

export type RoleMatch = { allowed: true; granting: CompiledRole[] } | { allowed: false; reason: string };

function grantsAll(role: CompiledRole, requested: readonly RequestedPrincipal[]): boolean {
  return requested.every((p) => principalListMatches(p.field, role.allow.principals[p.field], p.value));
}

function describePrincipal(p: RequestedPrincipal): string {
  return `${PRINCIPAL_RULES[p.field].noun} "${p.value}"`;
}

/** "login "x" is not allowed on node "n"" or, for kinds without principals, "app "n" is not allowed". */
function notAllowed(noun: string, resource: AccessResource, requested: readonly RequestedPrincipal[]): string {
  if (requested.length === 0) return `${noun} "${resource.name}" is not allowed`;
  const what = requested.map(describePrincipal).join(' with ');
  return `${what} ${requested.length === 1 ? 'is' : 'are'} not allowed on ${noun} "${resource.name}"`;
}

/** Deny wins; then the roles that grant the whole request on this resource. */
export function matchRoles<A>(
  roleSet: RoleSet,
  matcher: KindMatcher<A, unknown>,
  resource: AccessResource,
  requested: readonly RequestedPrincipal[],
): RoleMatch {
  const roles = roleSet.compiled;
  const field = matcher.labelsField;
  const noun = matcher.noun;
  const deniedResource = roles.filter((r) => r.deny.labels[field](resource.labels)).map((r) => r.name);
  if (deniedResource.length > 0) {
    return { allowed: false, reason: `access to ${noun} "${resource.name}" is denied${byRoles(deniedResource)}` };
  }
  for (const p of requested) {
    const denied = roles.filter((r) => principalListMatches(p.field, r.deny.principals[p.field], p.value));
    if (denied.length > 0) {
      return { allowed: false, reason: `${describePrincipal(p)} is denied${byRoles(denied.map((r) => r.name))}` };
    }
  }
  const matching = roles.filter((r) => r.allow.labels[field](resource.labels));
  if (matching.length === 0) {
    if (roles.length === 0) return { allowed: false, reason: `${notAllowed(noun, resource, requested)}${byRoles([])}` };
    return {
      allowed: false,
      reason: `${noun} "${resource.name}" is not allowed${byRoles(roleSet.roleNames)}: no role's ${field} match the ${noun}'s labels`,
    };
  }
  const granting = matching.filter((r) => grantsAll(r, requested));
  if (granting.length > 0) return { allowed: true, granting };
  return { allowed: false, reason: `${notAllowed(noun, resource, requested)}${byRoles(roleSet.roleNames)}` };
}
