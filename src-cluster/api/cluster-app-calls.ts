// ClusterService calls for application access: app services register the apps of their static
// configuration and get the signed JWT for one user and app; any joined service (the proxy, for
// https://PROXY/.well-known/jwks.json) gets the JWKS. Each call is authenticated by the caller's
// host certificate, and what it may do follows from the role that certificate names.
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { ClusterService } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { issueAppToken } from '../auth/app-tokens.ts';
import type { AuthServer } from '../auth/auth-server.ts';
import type { HostIdentity, ServiceRole } from '../auth/host-identity.ts';
import type { Logger } from '../log/logger.ts';

type Impl = ServiceImpl<typeof ClusterService>;

export interface ClusterAppCallDeps {
  auth: AuthServer;
  log: Logger;
  /** The caller's host identity, refused (and recorded) unless its role is one of `roles`. */
  host(ctx: HandlerContext, roles?: readonly ServiceRole[]): Promise<HostIdentity>;
}

const unix = (d: Date) => BigInt(Math.floor(d.getTime() / 1000));

export function clusterAppCalls(deps: ClusterAppCallDeps): Pick<Impl, 'registerApps' | 'signAppToken' | 'getJwks'> {
  const { auth } = deps;
  return {
    registerApps: async (req, ctx) => {
      const me = await deps.host(ctx, ['app']);
      await auth.apps.register(me.name, req.resourceJson);
      return {};
    },
    signAppToken: async (req, ctx) => {
      const me = await deps.host(ctx, ['app']);
      const signed = await issueAppToken(
        {
          signer: auth.appTokens,
          userCaPems: () => [auth.cas.tlsUser.material.certPem],
          findApp: (name) => auth.apps.find(name),
          findUser: (name) => auth.access.findUser(name),
        },
        req.userCertPem,
        req.app,
      );
      deps.log.debug('app token issued', { service: me.name, app: req.app });
      return { jwt: signed.jwt, expiresUnix: unix(signed.expires) };
    },
    getJwks: async (_req, ctx) => {
      await deps.host(ctx);
      return { jwksJson: JSON.stringify(await auth.appTokens.jwks()) };
    },
  };
}
