// The per-kind vocabulary of a role's allow/deny sections: which label selector names the
// resources of each kind (node_labels, db_labels, ...) and which principal lists say "as whom"
// (logins, db_users, db_names, kubernetes_groups, kubernetes_users). One table, so the schema,
// the user traits and the role set treat every kind alike and a new kind is one entry here.

/** Label selectors in a role, one per kind of resource it grants. */
export const LABEL_FIELDS = ['node_labels', 'db_labels', 'app_labels', 'kubernetes_labels'] as const;
export type LabelField = (typeof LABEL_FIELDS)[number];

export const PRINCIPAL_FIELDS = ['logins', 'db_users', 'db_names', 'kubernetes_groups', 'kubernetes_users'] as const;
export type PrincipalField = (typeof PRINCIPAL_FIELDS)[number];

export interface PrincipalFieldRule {
  /** How refusals name one value ("login", "database user"). */
  noun: string;
  /** The user trait `{{internal.<trait>}}` expands to (the trait has the field's name). */
  template: string;
  /** `*` grants (allow) or refuses (deny) every value: for kinds where "any" is a sensible grant. */
  wildcard: boolean;
  /** Why a concrete value is not acceptable, or undefined. */
  problem(value: string): string | undefined;
}

// Unix-ish login names; no leading "-" so a login can never read as an ssh option.
const LOGIN_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;
// Database user and database names (PostgreSQL/MySQL identifiers as people write them); no
// leading "-" for the same reason as logins: they end up on command lines of db clients.
const DB_USER_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.@$-]{0,62}$/;
const DB_NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.$-]{0,62}$/;
// Kubernetes users and groups are free-form in Kubernetes; "system:masters" or "oidc:team/a"
// are common. Printable, no spaces, bounded like a DNS subdomain.
const KUBE_SUBJECT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:@/-]{0,252}$/;

export function loginProblem(login: string): string | undefined {
  if (LOGIN_PATTERN.test(login)) return undefined;
  return `"${login}" is not a valid login: use 1-64 letters, digits, "_", ".", "@" or "-", not starting with "-", "." or "@"`;
}

function patternProblem(pattern: RegExp, what: string, rule: string): (value: string) => string | undefined {
  return (value) => (pattern.test(value) ? undefined : `"${value}" is not a valid ${what}: ${rule}`);
}

export const PRINCIPAL_RULES: Readonly<Record<PrincipalField, PrincipalFieldRule>> = {
  logins: { noun: 'login', template: 'internal.logins', wildcard: false, problem: loginProblem },
  db_users: {
    noun: 'database user',
    template: 'internal.db_users',
    wildcard: true,
    problem: patternProblem(
      DB_USER_PATTERN,
      'database user',
      'use 1-63 letters, digits, "_", ".", "@", "$" or "-", not starting with "-", "." or "@"',
    ),
  },
  db_names: {
    noun: 'database name',
    template: 'internal.db_names',
    wildcard: true,
    problem: patternProblem(
      DB_NAME_PATTERN,
      'database name',
      'use 1-63 letters, digits, "_", ".", "$" or "-", not starting with "-" or "."',
    ),
  },
  kubernetes_groups: {
    noun: 'Kubernetes group',
    template: 'internal.kubernetes_groups',
    wildcard: false,
    problem: patternProblem(
      KUBE_SUBJECT_PATTERN,
      'Kubernetes group',
      'use 1-253 letters, digits, "_", ".", ":", "@", "/" or "-", starting with a letter or digit',
    ),
  },
  kubernetes_users: {
    noun: 'Kubernetes user',
    template: 'internal.kubernetes_users',
    wildcard: false,
    problem: patternProblem(
      KUBE_SUBJECT_PATTERN,
      'Kubernetes user',
      'use 1-253 letters, digits, "_", ".", ":", "@", "/" or "-", starting with a letter or digit',
    ),
  },
};

/** The value that grants or refuses every value of a wildcard field. */
export const ANY_PRINCIPAL = '*';

const TEMPLATE = /^\{\{\s*([A-Za-z0-9_.]+)\s*\}\}$/;

/**
 * The trait a whole-entry template of `field` refers to, undefined when `entry` is a plain value.
 * Each field accepts only its own trait: splicing traits into other fields or into larger strings
 * ("x-{{internal.logins}}") invites surprising principals.
 */
export function principalTemplateTrait(field: PrincipalField, entry: string): PrincipalField | undefined {
  const m = TEMPLATE.exec(entry);
  return m && m[1] === PRINCIPAL_RULES[field].template ? field : undefined;
}

/** Why `entry` may not appear in a role's `field` list, or undefined. */
export function principalEntryProblem(field: PrincipalField, entry: string): string | undefined {
  const rule = PRINCIPAL_RULES[field];
  if (entry.includes('{{') || entry.includes('}}')) {
    if (principalTemplateTrait(field, entry)) return undefined;
    return `unknown template "${entry}"; supported: {{${rule.template}}}`;
  }
  if (entry === ANY_PRINCIPAL && rule.wildcard) return undefined;
  return rule.problem(entry);
}

/** User traits, keyed by the principal field they expand into. */
export type PrincipalTraits = Partial<Record<PrincipalField, readonly string[]>>;

/**
 * A role's `field` list with templates replaced by the user's trait values, deduplicated, in
 * order. Trait values may one day come from an identity provider: only well-formed values (never
 * the wildcard) become principals.
 */
export function expandPrincipals(field: PrincipalField, entries: readonly string[], traits: PrincipalTraits): string[] {
  const out: string[] = [];
  const rule = PRINCIPAL_RULES[field];
  for (const entry of entries) {
    const trait = principalTemplateTrait(field, entry);
    const values = trait ? (traits[trait] ?? []).filter((v) => rule.problem(v) === undefined) : [entry];
    for (const v of values) if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** Does an expanded principal list grant (or refuse) `value`? The wildcard only where the field has one. */
export function principalListMatches(field: PrincipalField, list: readonly string[], value: string): boolean {
  // A request never names "every user": a literal "*" asked for matches nothing (fails closed).
  if (value === ANY_PRINCIPAL) return false;
  return list.includes(value) || (PRINCIPAL_RULES[field].wildcard && list.includes(ANY_PRINCIPAL));
}
