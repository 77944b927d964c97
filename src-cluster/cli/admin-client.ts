// How `gatectl` reaches the cluster: the admin identity file written by `gatehouse start`
// (found via --identity, --data-dir or $GATEHOUSE_DATA_DIR) and mTLS to the proxy's API.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DescService } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import type { Command } from 'commander';
import type { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import type { ClusterService, JoinTokenService } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { ErrorCode, GatehouseError, isGatehouseError } from '../../src-shared/errors.ts';
import type { AdminIdentityFile } from '../daemon/admin-identity.ts';
import { ADMIN_IDENTITY_FILE, defaultDataDir } from '../daemon/data-dir.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import { TLS_CLIENT_SETTINGS } from '../../src-shared/tls-settings.ts';

export interface AdminTarget {
  identity?: string;
  dataDir?: string;
  auth?: string;
}

export type AuthClient = Client<typeof AuthService>;
export type JoinTokenClient = Client<typeof JoinTokenService>;
export type ClusterClient = Client<typeof ClusterService>;

/**
 * --data-dir, --identity, --auth: how a command finds the cluster. Declared on the program (before
 * the command) and on every command that calls the cluster (after it), as scripts write both.
 */
export function addAdminTargetOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <DIR>', 'data dir of the local "gatehouse start" (finds its admin identity)')
    .option('--identity <FILE>', 'admin identity file (on another host)')
    .option('--auth <ADDR>', "proxy address to use instead of the identity's");
}

/** The admin target a command was given, the command's own options winning over the program's. */
export function adminTargetOf(cmd: Command): AdminTarget {
  const o = cmd.optsWithGlobals<{ dataDir?: string; identity?: string; auth?: string }>();
  return { dataDir: o.dataDir, identity: o.identity, auth: o.auth };
}

export function loadAdminIdentity(target: AdminTarget): { file: AdminIdentityFile; path: string } {
  const path = target.identity ?? join(target.dataDir ?? defaultDataDir(), ADMIN_IDENTITY_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : String(code);
    throw new GatehouseError(
      ErrorCode.NOT_LOGGED_IN,
      `admin identity ${path}: ${why}. Is "gatehouse start" running with this data dir? ` +
        'Pass --data-dir DIR (or set GATEHOUSE_DATA_DIR), or --identity FILE on another host.',
    );
  }
  try {
    return { file: JSON.parse(text) as AdminIdentityFile, path };
  } catch {
    throw new GatehouseError(ErrorCode.CONFIG, `admin identity ${path} is not valid JSON`);
  }
}

/** The proxy address the admin client talks to (what a joining service should use too). */
export function adminAddress(target: AdminTarget): string {
  return target.auth ?? loadAdminIdentity(target).file.proxy;
}

/** The detail naming the call a server does not offer (Connect's Unimplemented). */
export const UNIMPLEMENTED_DETAIL = 'unimplemented_call';

/** Whether `e` says the server does not offer call `method` (it is older than this CLI). */
export function isUnimplementedCall(e: unknown, method: string): boolean {
  return isGatehouseError(e) && e.details?.[UNIMPLEMENTED_DETAIL] === method;
}

/** A client whose every call turns Connect errors back into GatehouseErrors. */
export function adminClient(target: AdminTarget): AuthClient {
  return adminServiceClient(target, async () => (await import('../../proto/gen/gatehouse/v1/auth_pb.ts')).AuthService);
}

/**
 * The same, for any service the proxy's API serves (JoinTokenService, ClusterService, ...), named
 * by a loader of its descriptor. Connect, its HTTP/2 transport and the generated code load at the
 * first call: every command module imports this one for its options, and `gatectl --help` must
 * not load the network stack.
 */
export function adminServiceClient<S extends DescService>(
  target: AdminTarget,
  loadService: () => Promise<S>,
): Client<S> {
  let connected: Promise<{ client: Client<S>; address: string }> | undefined;
  const connect = () => (connected ??= connectAdminClient(target, loadService));
  return new Proxy({} as Client<S>, {
    get(_, prop) {
      // Only the service's methods exist; `then` must stay undefined so the client is not a thenable.
      if (typeof prop !== 'string' || prop === 'then') return undefined;
      return async (...args: unknown[]) => {
        const { client, address } = await connect();
        const fn = Reflect.get(client, prop) as unknown;
        if (typeof fn !== 'function') throw new TypeError(`the admin API has no method "${prop}"`);
        try {
          return await (fn as (...a: unknown[]) => Promise<unknown>).apply(client, args);
        } catch (e) {
          const [{ fromConnectError }, { Code, ConnectError }] = await Promise.all([
            import('../api/errors.ts'),
            import('./connect-client.ts'),
          ]);
          if (e instanceof ConnectError && e.code === Code.Unimplemented) {
            // A server older than this CLI: commands with a fallback recognise it by the detail.
            throw new GatehouseError(
              ErrorCode.INTERNAL,
              `the cluster at ${address} does not offer ${prop} (an older version?): ${e.rawMessage}`,
              { [UNIMPLEMENTED_DETAIL]: prop },
            );
          }
          const err = fromConnectError(e);
          if (err.code === ErrorCode.PROXY_UNREACHABLE || /ECONNREFUSED/.test(err.message)) {
            throw new GatehouseError(
              ErrorCode.PROXY_UNREACHABLE,
              `cannot reach the cluster at ${address}: ${err.message}. Is "gatehouse start" running?`,
            );
          }
          throw err;
        }
      };
    },
  });
}

async function connectAdminClient<S extends DescService>(
  target: AdminTarget,
  loadService: () => Promise<S>,
): Promise<{ client: Client<S>; address: string }> {
  const { file } = loadAdminIdentity(target);
  const address = target.auth ?? file.proxy;
  const [host] = splitHostPort(address);
  const [{ createClient, createConnectTransport }, service] = await Promise.all([
    import('./connect-client.ts'),
    loadService(),
  ]);
  const transport = createConnectTransport({
    httpVersion: '2',
    baseUrl: `https://${address}`,
    nodeOptions: {
      ca: file.tls_host_ca_pem,
      cert: file.tls_cert_pem,
      key: file.key_pem,
      servername: /^[\d.]+$/.test(host) ? undefined : host,
      ...TLS_CLIENT_SETTINGS,
    },
  });
  return { client: createClient(service, transport), address };
}
