// ClusterService calls db services make (and, for audit batches, any service): a database CA
// client certificate for one db user, the databases of the service's static configuration, and
// audit events in batches. Each call is authenticated by the caller's host certificate, and what
// it may do follows from the role that certificate names.
import type { HandlerContext, ServiceImpl } from '@connectrpc/connect';
import type { ClusterService } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AuditBatchEmitter } from '../audit/audit-events.ts';
import type { AuthServer } from '../auth/auth-server.ts';
import { issueDatabaseClientCert, parseP256PublicKey } from '../auth/db-certs.ts';
import type { HostIdentity, ServiceRole } from '../auth/host-identity.ts';
import { decodeServiceAuditEvent } from '../join/service-audit.ts';
import type { Logger } from '../log/logger.ts';

type Impl = ServiceImpl<typeof ClusterService>;

/** Events in one EmitAuditEvents call (db query events come in bursts of at most this many). */
export const MAX_AUDIT_EVENTS_PER_CALL = 500;

export interface ClusterDbCallDeps {
  auth: AuthServer;
  audit: AuditBatchEmitter;
  log: Logger;
  /** The caller's host identity, refused (and recorded) unless its role is one of `roles`. */
  host(ctx: HandlerContext, roles?: readonly ServiceRole[]): Promise<HostIdentity>;
}

const unix = (d: Date) => BigInt(Math.floor(d.getTime() / 1000));

export function clusterDbCalls(
  deps: ClusterDbCallDeps,
): Pick<Impl, 'signDatabaseClientCertificate' | 'registerDatabases' | 'emitAuditEvents'> {
  const { auth } = deps;
  return {
    signDatabaseClientCertificate: async (req, ctx) => {
      const me = await deps.host(ctx, ['db']);
      const publicKey = parseP256PublicKey(req.tlsPublicKeyPem);
      const issued = await issueDatabaseClientCert(auth.cas.tlsDb, publicKey, req.dbUser);
      deps.log.debug('database client certificate issued', { service: me.name, db_user: req.dbUser });
      return {
        tlsCertPem: issued.certPem,
        dbCaPems: [auth.cas.tlsDb.material.certPem],
        expiresUnix: unix(issued.expires),
      };
    },
    registerDatabases: async (req, ctx) => {
      const me = await deps.host(ctx, ['db']);
      await auth.databases.register(me.name, req.resourceJson);
      return {};
    },
    emitAuditEvents: async (req, ctx) => {
      const me = await deps.host(ctx);
      if (req.events.length > MAX_AUDIT_EVENTS_PER_CALL) {
        throw new GatehouseError(
          ErrorCode.REQUEST_TOO_LARGE,
          `at most ${MAX_AUDIT_EVENTS_PER_CALL} audit events per call, got ${req.events.length}`,
        );
      }
      // Every event is checked before any is stored: one bad event refuses the whole batch.
      const events = req.events.map((e, i) => {
        try {
          return decodeServiceAuditEvent(me, e);
        } catch (error) {
          if (!(error instanceof GatehouseError)) throw error;
          throw new GatehouseError(error.code, `event ${i + 1}: ${error.message}`, error.details);
        }
      });
      if (events.length > 0) await deps.audit.emitMany(events);
      return {};
    },
  };
}
