// Wiring of the auth side of joining (ClusterService + JoinTokenService) over one backend, so
// the composition root registers it with one call next to registerAuthService.
import type { ConnectRouter } from '@connectrpc/connect';
import type { AuditBatchEmitter } from '../audit/audit-events.ts';
import type { AuthServer } from '../auth/auth-server.ts';
import { HostJoin } from '../join/host-join.ts';
import { JoinTokenStore } from '../join/join-tokens.ts';
import { ServerInventory } from '../join/server-inventory.ts';
import type { Logger } from '../log/logger.ts';
import type { Backend } from '../storage/backend.ts';
import { registerClusterService } from './cluster-service.ts';
import { registerJoinTokenService } from './join-token-service.ts';

export interface ClusterRoutesDeps {
  backend: Backend;
  auth: AuthServer;
  audit: AuditBatchEmitter;
  log: Logger;
  /** Key prefix of each kind services may watch (ResourceStore.prefix), e.g. role → "/roles/". */
  watchPrefixes: Record<string, string>;
}

export interface ClusterRoutes {
  routes: (router: ConnectRouter) => void;
  tokens: JoinTokenStore;
  servers: ServerInventory;
  join: HostJoin;
}

export function registerClusterRoutes(deps: ClusterRoutesDeps): ClusterRoutes {
  const { backend, auth, audit, log } = deps;
  const tokens = new JoinTokenStore(backend);
  const servers = new ServerInventory(backend, auth);
  const cas = auth.cas;
  const join = new HostJoin({
    clusterName: auth.settings.clusterName,
    cas,
    signHostCert: (key, principals, ttlMs) => auth.signHostCert(key, principals, ttlMs),
    tokens,
    servers,
    audit,
    log,
  });
  const cluster = registerClusterService({
    auth,
    join,
    servers,
    audit,
    log,
    watch: {
      backend,
      prefixes: deps.watchPrefixes,
      caPublicParts: () => ({
        tlsUserCaPems: [cas.tlsUser.material.certPem],
        sshUserCaKeys: [cas.sshUser.authorizedKey],
      }),
    },
  });
  const joinTokens = registerJoinTokenService({ auth, tokens, audit, log });
  return {
    routes: (router) => {
      cluster(router);
      joinTokens(router);
    },
    tokens,
    servers,
    join,
  };
}
