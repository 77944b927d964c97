// How a proxy or node of this process finds auth: in the single process, auth's own listener
// with its CA and a fresh internal token; otherwise the configured auth servers (auth_servers,
// auth_server or --auth-server, tried in order with failover), join token and CA pin. Both lead to the same ServiceRuntime.start, so there is one join path for every topology.
import { existsSync } from 'node:fs';
import { hostIdentityPath, type JoinableRole } from '../service/host-identity-file.ts';
import { authServersOf, type DaemonConfig } from './config.ts';
import type { RunningAuth } from './auth-composition.ts';

export interface JoinTarget {
  /** Auth's API addresses, in the order they are tried. */
  authServers: string[];
  token?: string;
  caPin?: string;
  trustedCaPems?: string[];
}

export async function joinTargetFor(
  cfg: DaemonConfig,
  role: JoinableRole,
  auth: RunningAuth | undefined,
): Promise<JoinTarget> {
  if (auth) {
    // A token only when there is no identity yet: a restart must not pile up unused tokens.
    const joined = existsSync(hostIdentityPath(cfg.data_dir, role));
    return {
      authServers: [auth.apiAddress],
      trustedCaPems: auth.tlsHostCaPems,
      ...(joined ? {} : { token: await auth.internalJoinToken(role) }),
    };
  }
  return {
    authServers: authServersOf(cfg),
    ...(cfg.join_token ? { token: cfg.join_token } : {}),
    ...(cfg.ca_pin ? { caPin: cfg.ca_pin } : {}),
  };
}
