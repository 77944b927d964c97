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

/** A role allowing databases with these db users and names (deny lists optional). */
export function dbRoleYaml(
  name: string,
  allow: { dbUsers: string[]; dbNames: string[]; deviceTrustMode?: string },
  deny?: { dbUsers?: string[]; dbNames?: string[] },
): string {
  const list = (xs: string[]) => `[${xs.map((x) => JSON.stringify(x)).join(', ')}]`;
  return [
    'kind: role',
    'version: v7',
    `metadata: { name: ${name} }`,
    'spec:',
    '  allow:',
    "    db_labels: { '*': '*' }",
    `    db_users: ${list(allow.dbUsers)}`,
    `    db_names: ${list(allow.dbNames)}`,
    ...(deny
      ? [
          '  deny:',
          ...(deny.dbUsers ? [`    db_users: ${list(deny.dbUsers)}`] : []),
          ...(deny.dbNames ? [`    db_names: ${list(deny.dbNames)}`] : []),
        ]
      : []),
    ...(allow.deviceTrustMode ? ['  options:', `    device_trust_mode: ${allow.deviceTrustMode}`] : []),
    '',
  ].join('\n');
}
