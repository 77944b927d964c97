// The `kind: db` and `kind: role` resources the database tests apply to a cluster, as YAML for
// `gatectl create -f`: one place, so every test grants database access the same way.

/** A database on loopback, labelled env=test, reached without TLS options. */
export function loopbackDbYaml(name: string, protocol: 'postgres' | 'mysql', port: number): string {
  return [
    'kind: db',
    'version: v3',
    `metadata: { name: ${name}, labels: { env: test } }`,
    `spec: { protocol: ${protocol}, uri: "127.0.0.1:${port}" }`,
    '',
  ].join('\n');
}

/** A role allowing every database (any labels) as `dbUsers`, on `dbNames`. */
export function dbAccessRoleYaml(name: string, dbUsers: readonly string[], dbNames: readonly string[]): string {
  return [
    'kind: role',
    'version: v7',
    `metadata: { name: ${name} }`,
    'spec:',
    '  allow:',
    "    db_labels: { '*': '*' }",
    `    db_users: [${dbUsers.join(', ')}]`,
    `    db_names: [${dbNames.join(', ')}]`,
    '',
  ].join('\n');
}
