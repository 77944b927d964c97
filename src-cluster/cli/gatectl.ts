// `gatectl`: the admin CLI. Thin: parse arguments, call the API, print.
import { parseArgs } from 'node:util';
import { createDefaultRegistry, newUser, toJson, toText, toYaml, type Resource } from '../resources/index.ts';
import { ErrorCode, GatehouseError, exitCodeFor, isGatehouseError } from '../../src-shared/errors.ts';
import { adminAddress, adminClient, adminServiceClient, type AdminTarget } from './admin-client.ts';
import { ClusterService, JoinTokenService } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { tokensCommand } from './token-commands.ts';
import { printServers } from './server-commands.ts';
import { readStdin, singletonWords, splitKindName, printTable } from './cli-util.ts';
import { createResources, editResource } from './resource-commands.ts';
import { devicesCommand } from './device-commands.ts';
import { lockCommand, printLocks } from './lock-commands.ts';
import { auditCommand } from './audit-command.ts';
import { ekpubRiskWarning } from '../devicetrust/attestation-policy.ts';
import { CAP_KIND, CAP_NAME, type ClusterAuthPreferenceResource } from '../resources/cluster-auth-preference.ts';

const USAGE = `Usage: gatectl <command> [options]

Commands:
  users add NAME --roles=a,b [--logins=x,y] [--password-stdin] [--bot]
                         add a user; prints a one-time password-set token
                         (or reads the password from stdin); --bot marks a machine
                         identity (exempt under device trust mode required-for-humans)
  users ls               list users
  devices add --asset-tag T --os linux|macos|windows [--ek-key-hash HASH] [--enroll]
                         register a device; --ek-key-hash binds it to the TPM whose
                         EK key hash "gate device keyget" prints (only that TPM can
                         enroll); --enroll also prints an enroll token
  devices ls             list devices (flags enrolled devices that fail the policy)
  devices enroll --asset-tag T | --device-id ID
                         a new single-use enroll token for a device
  devices rm --asset-tag T | --device-id ID
  lock --device=ID | --user=NAME | --role=NAME | --login=NAME | --node=NAME
       [--ttl=12h | --expires=RFC3339] [--message=TEXT]
                         lock a target out (new access and certificates refused,
                         matching live sessions closed); gatectl get locks lists
                         them, gatectl rm lock/NAME lifts one
  audit [--since T] [--until T] [--type TYPE] [--user NAME] [--limit N]
        [--order desc|asc] [--format text|json]
                         audit events, newest first (T: RFC 3339 or a duration
                         ago like 24h); --format json prints JSON Lines for export
  create -f FILE [--force]   create resources from YAML (role, user, ...); --force replaces
                         (cluster_auth_preference is replaced without --force)
  get KIND[/NAME] [--format yaml|json|text]
  edit KIND/NAME         edit a resource in $EDITOR; applied when you save
                         (cluster_auth_preference, alias cap: no NAME)
  rm KIND/NAME           delete a resource (rm cap: back to the config file's settings)
  nodes ls               list joined services (proxies, nodes, ...) with version,
                         address and last heartbeat; STALE ones stopped heartbeating
  tokens add --type=node[,proxy,db,app] [--ttl=30m] [--multi-use]
                         a join token (single use unless --multi-use; default TTL
                         30m, at most 7 days) and the command that joins a service
  tokens ls              join tokens that can still be used (never the secrets)
  tokens rm ID           revoke a join token
  status                 cluster name, version, CAs, counts, device trust policy
                         (warns when mode is required and ekpub enrollment allowed)
  auth export --type=user|host|tls-user|tls-host
                         print a CA's public part, e.g. for sshd's TrustedUserCAKeys

Global options:
  --data-dir DIR         data dir of the local "gatehouse start" (finds its admin identity)
  --identity FILE        admin identity file (on another host)
  --auth ADDR            proxy address to use instead of the identity's
`;

const globalOptions = {
  'data-dir': { type: 'string' },
  identity: { type: 'string' },
  auth: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function targetOf(values: { 'data-dir'?: string; identity?: string; auth?: string }): AdminTarget {
  return { dataDir: values['data-dir'], identity: values.identity, auth: values.auth };
}

function list(v: string | undefined): string[] {
  return (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const registry = createDefaultRegistry();

async function usersCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...globalOptions,
      roles: { type: 'string' },
      logins: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      bot: { type: 'boolean' },
    },
  });
  const [sub, name] = positionals;
  const client = adminClient(targetOf(values));
  if (sub === 'ls') {
    const res = await client.listResources({ kind: 'user' });
    const users = res.resourcesJson.map(
      (j) => JSON.parse(j) as Resource<'user', { roles: string[]; traits?: { logins?: string[] }; is_bot?: boolean }>,
    );
    printTable(
      ['User', 'Roles', 'Logins', 'Bot'],
      users.map((u) => [
        u.metadata.name,
        u.spec.roles.join(','),
        (u.spec.traits?.logins ?? []).join(','),
        u.spec.is_bot ? 'yes' : '',
      ]),
    );
    return;
  }
  if (sub !== 'add' || !name)
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      'usage: gatectl users add NAME --roles=a,b [--logins=x,y] [--password-stdin] [--bot] | gatectl users ls',
    );
  const roles = list(values.roles);
  if (roles.length === 0)
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'users add needs --roles (e.g. --roles=access)');
  const user = newUser({ name, roles, logins: list(values.logins), ...(values.bot ? { isBot: true } : {}) });
  const password = values['password-stdin'] ? (await readStdin()).replace(/\r?\n$/, '') : '';
  const res = await client.createUser({ userJson: JSON.stringify(user), password });
  if (password) {
    process.stdout.write(`User "${name}" has been created with a password.\n`);
  } else {
    const expires = new Date(Number(res.resetTokenExpiresUnix) * 1000).toISOString();
    process.stdout.write(
      `User "${name}" has been created but requires a password. Share this one-time token with them; it expires at ${expires}:\n\n  ${res.resetToken}\n\nThey set their password with (it asks for the token; keep it off command lines, where other users see it):\n  gate set-password --proxy <proxy address>\n`,
    );
  }
  if (res.otpUri)
    process.stdout.write(`\nOne-time password (TOTP) enrollment URI for an authenticator app:\n  ${res.otpUri}\n`);
}

async function getCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...globalOptions, format: { type: 'string' } },
  });
  const ref = positionals[0];
  if (!ref) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'usage: gatectl get KIND[/NAME] [--format yaml|json|text]');
  if (values.format === undefined && ['lock', 'locks'].includes(ref)) return printLocks(adminClient(targetOf(values)));
  const format = values.format ?? 'yaml';
  if (format !== 'yaml' && format !== 'json' && format !== 'text') {
    throw new GatehouseError(ErrorCode.BAD_REQUEST, `unknown format "${format}"; use yaml, json or text`);
  }
  const { kind, name } = splitKindName(ref, registry);
  const client = adminClient(targetOf(values));
  const resources: Resource[] = name
    ? [JSON.parse((await client.getResource({ kind, name })).resourceJson) as Resource]
    : (await client.listResources({ kind })).resourcesJson.map((j) => JSON.parse(j) as Resource);
  if (format === 'json') process.stdout.write(toJson(name ? resources[0]! : resources) + '\n');
  else if (format === 'text') process.stdout.write(toText(resources, registry) + '\n');
  else process.stdout.write(toYaml(resources));
}

async function rmCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: globalOptions });
  const ref = positionals[0];
  const parsed = ref ? splitKindName(ref, registry) : undefined;
  if (!parsed?.name)
    throw new GatehouseError(ErrorCode.BAD_REQUEST, 'usage: gatectl rm KIND/NAME (e.g. gatectl rm role/dev)');
  await adminClient(targetOf(values)).deleteResource({ kind: parsed.kind, name: parsed.name });
  if (registry.get(parsed.kind)?.singleton) {
    process.stdout.write(`${singletonWords(parsed.kind)} has been reset to the config file's settings\n`);
    return;
  }
  process.stdout.write(`${parsed.kind} "${parsed.name}" has been deleted\n`);
}

async function nodesCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: globalOptions });
  if (positionals[0] !== 'ls') throw new GatehouseError(ErrorCode.BAD_REQUEST, 'usage: gatectl nodes ls');
  await printServers(adminServiceClient(targetOf(values), ClusterService));
}

async function statusCommand(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: globalOptions });
  const client = adminClient(targetOf(values));
  const s = await client.getClusterStatus({});
  const cap = JSON.parse(
    (await client.getResource({ kind: CAP_KIND, name: CAP_NAME })).resourceJson,
  ) as ClusterAuthPreferenceResource;
  const risk = ekpubRiskWarning(cap.spec.device_trust);
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
}

const EXPORT_TYPES: Record<string, string> = {
  user: 'ssh_user',
  host: 'ssh_host',
  'tls-user': 'tls_user',
  'tls-host': 'tls_host',
};

async function authCommand(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { ...globalOptions, type: { type: 'string', default: 'user' } },
  });
  const caType = EXPORT_TYPES[values.type];
  if (positionals[0] !== 'export' || !caType) {
    throw new GatehouseError(
      ErrorCode.BAD_REQUEST,
      `usage: gatectl auth export --type=${Object.keys(EXPORT_TYPES).join('|')}`,
    );
  }
  const s = await adminClient(targetOf(values)).getClusterStatus({});
  const ca = s.certAuthorities.find((c) => c.type === caType);
  if (!ca) throw new GatehouseError(ErrorCode.NOT_FOUND, `certificate authority ${caType} not found`);
  process.stdout.write(ca.publicKey.endsWith('\n') ? ca.publicKey : ca.publicKey + '\n');
}

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  switch (cmd) {
    case 'users':
      return usersCommand(rest);
    case 'devices': {
      const { values } = parseArgs({ args: rest, allowPositionals: true, strict: false, options: globalOptions });
      const target = targetOf(values as Parameters<typeof targetOf>[0]);
      return devicesCommand(() => adminClient(target), rest, globalOptions);
    }
    case 'lock': {
      const { values } = parseArgs({ args: rest, allowPositionals: true, strict: false, options: globalOptions });
      const target = targetOf(values as Parameters<typeof targetOf>[0]);
      return lockCommand(() => adminClient(target), rest, globalOptions);
    }
    case 'audit': {
      const { values } = parseArgs({ args: rest, allowPositionals: true, strict: false, options: globalOptions });
      const target = targetOf(values as Parameters<typeof targetOf>[0]);
      return auditCommand(() => adminClient(target), rest, globalOptions);
    }
    case 'create': {
      const { values } = parseArgs({
        args: rest,
        options: { ...globalOptions, file: { type: 'string', short: 'f' }, force: { type: 'boolean' } },
      });
      return createResources(adminClient(targetOf(values)), registry, values.file, values.force ?? false);
    }
    case 'get':
      return getCommand(rest);
    case 'edit': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: globalOptions });
      const parsed = positionals[0] ? splitKindName(positionals[0], registry) : undefined;
      if (!parsed?.name)
        throw new GatehouseError(
          ErrorCode.BAD_REQUEST,
          'usage: gatectl edit KIND/NAME (e.g. gatectl edit role/access)',
        );
      return editResource(adminClient(targetOf(values)), registry, parsed.kind, parsed.name);
    }
    case 'rm':
      return rmCommand(rest);
    case 'nodes':
      return nodesCommand(rest);
    case 'tokens': {
      const { values } = parseArgs({ args: rest, allowPositionals: true, strict: false, options: globalOptions });
      const target = targetOf(values as Parameters<typeof targetOf>[0]);
      const client = () => adminServiceClient(target, JoinTokenService);
      return tokensCommand({ client, authAddress: () => adminAddress(target) }, rest, globalOptions);
    }
    case 'status':
      return statusCommand(rest);
    case 'auth':
      return authCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      throw new GatehouseError(ErrorCode.BAD_REQUEST, `unknown command "${cmd}"; run "gatectl --help"`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`ERROR: ${(e as Error).message}\n`);
  process.exitCode = isGatehouseError(e) ? exitCodeFor(e.code) : 1;
});
