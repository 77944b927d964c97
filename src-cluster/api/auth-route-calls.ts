// AuthService.IssueRouteCertificate: a route certificate for one database or app, made from the
// calling (login) certificate. The rules are route-certs.ts's; this is the protobuf translation.
import type { ServiceImpl } from '@connectrpc/connect';
import type { AuthService } from '../../proto/gen/gatehouse/v1/auth_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { issueRouteCertificate } from '../auth/route-certs.ts';
import { discardAudit } from '../audit/audit-events.ts';
import type { ApiDeps, UserCall } from './auth-deps.ts';
import { peerKey } from './peer.ts';

type Impl = ServiceImpl<typeof AuthService>;

const unix = (d: Date) => BigInt(Math.floor(d.getTime() / 1000));

export function routeCalls(deps: ApiDeps, id: UserCall): Pick<Impl, 'issueRouteCertificate'> {
  const { auth } = deps;
  const audit = deps.audit ?? discardAudit;
  return {
    issueRouteCertificate: async (req, ctx) => {
      const identity = await id(ctx);
      const peer = ctx.values.get(peerKey);
      if (!peer.certDer) throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, 'this call needs a client certificate');
      const issued = await issueRouteCertificate(
        {
          cas: auth.cas,
          access: auth.access,
          audit,
          databaseExists: (name) => auth.databases.exists(name),
          appExists: (name) => auth.apps.exists(name),
        },
        { identity, certDer: peer.certDer, address: peer.address },
        {
          tlsPublicKeyPem: req.tlsPublicKeyPem,
          kind: req.kind,
          name: req.name,
          dbUser: req.dbUser,
          dbName: req.dbName,
          ttlSeconds: Number(req.ttlSeconds),
        },
      );
      return { tlsCertPem: issued.certPem, expiresUnix: unix(issued.expires) };
    },
  };
}
