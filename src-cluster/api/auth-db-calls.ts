// AuthService calls for database access: the databases the caller's roles let them see and
// (admins) a database's server certificate from the database CA. Route certificates for a
// database or an app: auth-route-calls.ts.
import type { ServiceImpl } from '@connectrpc/connect';
import type { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { databasesVisibleTo } from '../auth/db-catalog.ts';
import { issueDatabaseServerCert, parseP256PublicKey } from '../auth/db-certs.ts';
import { discardAudit } from '../audit/audit-events.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';
import { peerKey } from './peer.ts';

type Impl = ServiceImpl<typeof AuthService>;

/**
 * What SignDatabaseServerCertificate needs: a certificate the database CA signs is trusted by
 * every db service as that database, so it takes the right to issue from a CA, the admin's.
 */
export const DB_SERVER_CERT_PERMISSION = { kind: 'cert_authority', verb: 'create' } as const;

const unix = (d: Date) => BigInt(Math.floor(d.getTime() / 1000));

export function dbCalls(deps: ApiDeps, id: UserCall): Pick<Impl, 'listDatabases' | 'signDatabaseServerCertificate'> {
  const { auth } = deps;
  const audit = deps.audit ?? discardAudit;
  return {
    listDatabases: async (_req, ctx) => {
      const access = await auth.access.forIdentity(await id(ctx));
      const databases = databasesVisibleTo(access.roleSet, await auth.databases.list());
      return { databases };
    },
    signDatabaseServerCertificate: async (req, ctx) => {
      const who = await id(ctx);
      await auth.access.requireResourceAccess(who, DB_SERVER_CERT_PERMISSION.kind, DB_SERVER_CERT_PERMISSION.verb);
      const publicKey = parseP256PublicKey(req.tlsPublicKeyPem);
      const issued = await issueDatabaseServerCert(auth.cas.tlsDb, publicKey, req.hosts, Number(req.ttlSeconds) * 1000);
      await audit.emit({
        type: 'cert.create',
        success: true,
        user: who.user,
        fields: {
          cert_type: 'db_server',
          hosts: req.hosts,
          expires: issued.expires.toISOString(),
          client_address: ctx.values.get(peerKey).address,
        },
      });
      return {
        tlsCertPem: issued.certPem,
        dbCaPems: [auth.cas.tlsDb.material.certPem],
        expiresUnix: unix(issued.expires),
      };
    },
  };
}
