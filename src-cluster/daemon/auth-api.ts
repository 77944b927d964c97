// The routes auth serves on its API listener and the guarded handler around them: who the
// caller is comes from peer.ts (its own client certificate, or the end user's as forwarded by a
// joined proxy), and every call meets the body and field limits of src-cluster/limits/.
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { registerAuthService } from '../api/auth-service.ts';
import { registerDeviceTrustService } from '../api/devicetrust-service.ts';
import { registerClusterRoutes } from '../api/cluster-routes.ts';
import { peerContext } from '../api/peer.ts';
import type { ResourceAdmin } from '../api/resource-admin.ts';
import { createGuardedApiHandler } from '../api/api-guard.ts';
import type { AuthServer } from '../auth/auth-server.ts';
import type { CertAuthorities } from '../auth/authorities.ts';
import type { ClusterAuthPreferenceService } from '../auth/cluster-auth-preference.ts';
import type { IdentityStores } from '../auth/identity-stores.ts';
import { loginDeviceTrust } from '../auth/login-device-trust.ts';
import type { AccessChecker } from '../authz/access.ts';
import type { AuditLog } from '../audit/audit-log.ts';
import type { DeviceInventory } from '../devicetrust/inventory.ts';
import { LoginDeviceChallenges } from '../devicetrust/login-challenges.ts';
import { issueLoginChallenge, type LoginChallengeDeps } from '../devicetrust/login-challenge-authentication.ts';
import type { JoinTokenStore } from '../join/join-tokens.ts';
import type { LockService } from '../locks/lock-service.ts';
import type { Logger } from '../log/logger.ts';
import type { Backend } from '../storage/backend.ts';
import type { DaemonConfig } from './config.ts';
import { VERSION } from './version.ts';

export interface AuthApiDeps extends IdentityStores {
  cfg: DaemonConfig;
  backend: Backend;
  auth: AuthServer;
  cas: CertAuthorities;
  admin: ResourceAdmin;
  devices: DeviceInventory;
  audit: AuditLog;
  preference: ClusterAuthPreferenceService;
  lockService: LockService;
  access: AccessChecker;
  /** Key prefix of the kind "db" store (its ResourceStore.prefix). */
  databasesPrefix: string;
  /** Key prefix of the kind "app" store (its ResourceStore.prefix). */
  appsPrefix: string;
  log: Logger;
}

export function authApiHandler(deps: AuthApiDeps): {
  handler: (req: Http2ServerRequest, res: Http2ServerResponse) => void;
  tokens: JoinTokenStore;
} {
  const { cfg, auth, cas, preference, audit, log, users, roles } = deps;
  const clusterMode = () => preference.current().spec.device_trust.mode;
  const deviceTrustDeps: LoginChallengeDeps = {
    inventory: deps.devices,
    cas,
    ekCertAllowedCas: () => preference.ekCertAllowedCas(),
    ekpubAllowed: () => preference.ekpubAllowed(),
    clusterDeviceTrustMode: clusterMode,
    requireNoLock: (targets, context) => deps.access.requireNoLock(targets, context),
    log: log.child('devicetrust'),
    audit,
    // Issued by Login, answered through DeviceTrustService: one store for both.
    loginChallenges: new LoginDeviceChallenges(),
  };
  const authRoutes = registerAuthService({
    auth,
    resources: deps.admin,
    devices: deps.devices,
    version: VERSION,
    // Auth does not know where the proxy runs; the proxy's config (shared in the single process) says.
    proxyPublicAddr: cfg.proxy.public_addr ?? cfg.proxy.listen_addr,
    log: log.child('api'),
    audit,
    auditLog: audit,
    preference: () => preference.current(),
    deviceTrustFor: (user, roleNames) => loginDeviceTrust({ clusterMode, users, roles }, user, roleNames),
    issueLoginDeviceChallenge: (login) => issueLoginChallenge(deviceTrustDeps, login),
  });
  const deviceTrustRoutes = registerDeviceTrustService(deviceTrustDeps);
  const clusterRoutes = registerClusterRoutes({
    backend: deps.backend,
    auth,
    audit,
    log: log.child('join'),
    watchPrefixes: {
      role: roles.prefix,
      user: users.prefix,
      lock: deps.lockService.store.prefix,
      cluster_auth_preference: preference.store.prefix,
      node: auth.nodes.prefix,
      db: deps.databasesPrefix,
      // ServerInventory's records of role "db": where the proxy finds live db services.
      db_server: '/servers/db/',
      app: deps.appsPrefix,
      // ServerInventory's records of role "app": where the proxy finds live app services.
      app_server: '/servers/app/',
    },
  });
  // User certificates come from the user CA, joined services' from the host CA (api/peer.ts).
  const tlsCas = { userCaPems: () => [cas.tlsUser.material.certPem], hostCaPems: () => [cas.tlsHost.material.certPem] };
  const handler = createGuardedApiHandler({
    routes: (router) => {
      authRoutes(router);
      deviceTrustRoutes(router);
      clusterRoutes.routes(router);
    },
    contextValues: (req) => peerContext(req, tlsCas),
    logger: log.child('api'),
  });
  return { handler, tokens: clusterRoutes.tokens };
}
