// AuthService calls that read the cluster's state for users and admins: the nodes the caller may
// see, the cluster status (CAs, counts) and the audit log search.
import type { ServiceImpl } from '@connectrpc/connect';
import type { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';
import { searchAuditEvents } from '../audit/audit-api.ts';

type Impl = ServiceImpl<typeof AuthService>;

export function inventoryCalls(
  deps: ApiDeps,
  id: UserCall,
): Pick<Impl, 'listNodes' | 'getClusterStatus' | 'searchAuditEvents'> {
  const { auth, resources } = deps;
  return {
    listNodes: async (_req, ctx) => {
      const access = await auth.access.forIdentity(await id(ctx));
      const nodes = (await auth.listNodes()).filter((n) =>
        access.roleSet.canSeeNode({ name: n.metadata.name, labels: n.spec.labels }),
      );
      return {
        nodes: nodes.map((n) => ({
          name: n.metadata.name,
          address: n.spec.address,
          labels: n.spec.labels,
          hostname: n.spec.hostname,
          lastHeartbeatUnix: 0n,
        })),
      };
    },
    getClusterStatus: async (_req, ctx) => {
      const who = await id(ctx);
      await auth.access.requireResourceAccess(who, 'cluster', 'read');
      const counts = await resources.counts();
      return {
        clusterName: auth.settings.clusterName,
        serverVersion: deps.version,
        certAuthorities: [
          ...[auth.cas.sshUser, auth.cas.sshHost].map((ca) => ({
            type: ca.type,
            fingerprint: ca.fingerprint,
            publicKey: ca.authorizedKey,
          })),
          ...[auth.cas.tlsUser, auth.cas.tlsHost, auth.cas.tlsDb].map((ca) => ({
            type: ca.type,
            fingerprint: ca.fingerprint,
            publicKey: ca.material.certPem,
          })),
          // The app JWT signing key: no certificate, its public key (apps usually take the JWKS).
          { type: auth.cas.jwt.type, fingerprint: auth.cas.jwt.fingerprint, publicKey: auth.cas.jwt.publicKeyPem },
        ],
        nodeCount: (await auth.listNodes()).length,
        userCount: counts.user ?? 0,
        roleCount: counts.role ?? 0,
      };
    },
    searchAuditEvents: async (req, ctx) => searchAuditEvents(deps.auditLog, auth.access, await id(ctx), req),
  };
}
