// `gatectl status`, `gatectl nodes ls`, `gatectl auth export` (`auth sign`: db-cert-commands.ts):
// what the cluster is made of, and the CA public keys other software (sshd, browsers, databases)
// is configured with.
import type { Command } from 'commander';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { onAction } from '../../src-shared/cli/program.ts';
import { ekpubRiskWarning } from '../devicetrust/attestation-policy.ts';
import type { ClusterAuthPreferenceResource } from '../resources/cluster-auth-preference.ts';
import {
  addAdminTargetOptions,
  adminClient,
  adminServiceClient,
  adminTargetOf,
  type AuthClient,
  type ClusterClient,
} from './admin-client.ts';
import { printServers } from './server-commands.ts';
import { printTable } from './cli-util.ts';
import { registerAuthSignCommand } from './db-cert-commands.ts';
import { formatServerTable, serverJson, statusServers } from './status-servers.ts';

const loadClusterService = async () => (await import('../../proto/gen/gatehouse/v1/cluster_pb.ts')).ClusterService;

/** `auth export --type` → the CA type in GetClusterStatus. */
const EXPORT_TYPES: Record<string, string> = {
  user: 'ssh_user',
  host: 'ssh_host',
  'tls-user': 'tls_user',
  'tls-host': 'tls_host',
  // What databases trust for the db service's client certificates (`gatectl auth sign --format db`).
  'db-client': 'tls_db',
  // The public key app JWTs are signed with (apps usually fetch https://PROXY/.well-known/jwks.json).
  jwt: 'jwt',
};

async function printStatus(client: AuthClient, cluster: ClusterClient, format = 'text'): Promise<void> {
  if (format !== 'text' && format !== 'json') {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `--format must be text or json, got "${format}"`);
  }
  // The server list needs `server list` besides `cluster read`: without it, the rest still prints.
  const [s, listed] = await Promise.all([
    client.getClusterStatus({}),
    cluster.listServers({}).then(
      (r) => ({ servers: statusServers(r.servers) }),
      (e: Error) => ({ error: e.message }),
    ),
  ]);
  // The resource schemas (zod) load when a command runs, not with the program (gatectl --help).
  const { CAP_KIND, CAP_NAME } = await import('../resources/cluster-auth-preference.ts');
  const cap = JSON.parse(
    (await client.getResource({ kind: CAP_KIND, name: CAP_NAME })).resourceJson,
  ) as ClusterAuthPreferenceResource;
  const risk = ekpubRiskWarning(cap.spec.device_trust);
  if (format === 'json') {
    const json = {
      cluster: s.clusterName,
      version: s.serverVersion,
      counts: { nodes: s.nodeCount, users: s.userCount, roles: s.roleCount },
      certificate_authorities: s.certAuthorities.map((c) => ({ type: c.type, fingerprint: c.fingerprint })),
      device_trust: { mode: cap.spec.device_trust.mode, ekpub_allowed: cap.spec.device_trust.ekpub_allowed },
      ...(risk ? { warning: risk } : {}),
      ...('servers' in listed ? { servers: listed.servers.map(serverJson) } : { servers_error: listed.error }),
    };
    process.stdout.write(JSON.stringify(json, null, 2) + '\n');
    return;
  }
  process.stdout.write(
    `Cluster:  ${s.clusterName}\nVersion:  ${s.serverVersion}\nNodes:    ${s.nodeCount}\nUsers:    ${s.userCount}\nRoles:    ${s.roleCount}\nCAs:\n`,
  );
  printTable(
    ['  Type', 'Fingerprint'],
    s.certAuthorities.map((c) => [`  ${c.type}`, c.fingerprint]),
  );
  process.stdout.write(
    `Device trust: ${cap.spec.device_trust.mode}, ekpub_allowed: ${cap.spec.device_trust.ekpub_allowed}\n`,
  );
  if (risk) process.stdout.write(`WARNING: ${risk}\n`);
  const table =
    'servers' in listed ? formatServerTable(listed.servers, Date.now()) : `  (cannot list: ${listed.error})\n`;
  process.stdout.write(`Servers:\n${table}`);
}

async function exportCa(client: () => AuthClient, type: string): Promise<void> {
  const caType = EXPORT_TYPES[type];
  if (!caType) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `unknown CA type "${type}"; use one of ${Object.keys(EXPORT_TYPES).join(', ')}`,
    );
  }
  const s = await client().getClusterStatus({});
  const ca = s.certAuthorities.find((c) => c.type === caType);
  if (!ca) throw new GatehouseError(ErrorCode.NOT_FOUND, `certificate authority ${caType} not found`);
  process.stdout.write(ca.publicKey.endsWith('\n') ? ca.publicKey : ca.publicKey + '\n');
}

export function registerClusterCommands(program: Command): void {
  const client = (cmd: Command) => () => adminClient(adminTargetOf(cmd));

  const status = program
    .command('status')
    .summary('cluster name, version, CAs, counts, device trust policy, auth servers and proxies')
    .description(
      'Prints the cluster name, version, counts, the CA fingerprints and the device trust policy\n' +
        '(with a warning when the mode is required and ekpub enrollment is allowed), then every auth\n' +
        'server and proxy with its version, health (ready, not ready, missed heartbeats) and age.',
    )
    .option('--format <text|json>', 'text (default) or one JSON document', 'text');
  addAdminTargetOptions(status);
  onAction(status, (cmd) =>
    printStatus(
      client(cmd)(),
      adminServiceClient(adminTargetOf(cmd), loadClusterService),
      cmd.opts<{ format: string }>().format,
    ),
  );

  const nodes = program.command('nodes').summary('joined services: proxies, nodes, ...');
  const nodesLs = nodes
    .command('ls')
    .summary('list joined services with version, address and last heartbeat; STALE ones stopped heartbeating');
  addAdminTargetOptions(nodesLs);
  onAction(nodesLs, (cmd) => printServers(adminServiceClient(adminTargetOf(cmd), loadClusterService)));

  const auth = program.command('auth').summary("the cluster's certificate authorities");
  const exportCmd = auth
    .command('export')
    .summary("print a CA's public part, e.g. for sshd's TrustedUserCAKeys")
    .option('--type <TYPE>', `the CA: ${Object.keys(EXPORT_TYPES).join(', ')}`, 'user');
  addAdminTargetOptions(exportCmd);
  onAction(exportCmd, (cmd) => exportCa(client(cmd), cmd.opts<{ type: string }>().type));
  registerAuthSignCommand(auth);
}
