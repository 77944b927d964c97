// The Connect implementation of gatehouse.v1.ClusterService, auth side: how services join (a
// token), renew, heartbeat, leave, watch what they decide with, and record audit events. Join is
// public (the token is the proof); ListServers is a user (admin) call; every other call needs the
// caller's host certificate, and what it writes is checked against that certificate.
import type { ConnectRouter, HandlerContext } from '@connectrpc/connect';
import { ClusterService, type ServerInfo } from '../../proto/gen/gatehouse/v1/cluster_pb.ts';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import type { AuthServer } from '../auth/auth-server.ts';
import type { AuditBatchEmitter } from '../audit/audit-events.ts';
import type { HostIdentity, ServiceRole } from '../auth/host-identity.ts';
import type { HostIdentityIssued, HostJoin } from '../join/host-join.ts';
import type { HeartbeatInput, ListedServer, ServerInventory } from '../join/server-inventory.ts';
import { decodeServiceAuditEvent } from '../join/service-audit.ts';
import { recordRefusal } from '../audit/audit-emit.ts';
import type { Logger } from '../log/logger.ts';
import { toConnectError } from './errors.ts';
import { guarded } from './guarded.ts';
import { peerKey, requireHost } from './peer.ts';
import { allowedWatchKinds, watchResources, type ResourceWatchDeps } from './resource-watch.ts';
import { requireUserCall } from './user-identity.ts';
import { clusterDbCalls } from './cluster-db-calls.ts';
import { clusterAppCalls } from './cluster-app-calls.ts';

export interface ClusterServiceDeps {
  auth: AuthServer;
  join: HostJoin;
  servers: ServerInventory;
  watch: ResourceWatchDeps;
  audit: AuditBatchEmitter;
  log: Logger;
}

function joinResponse(r: HostIdentityIssued) {
  return {
    clusterName: r.clusterName,
    hostId: r.hostId,
    tlsCertPem: r.tlsCertPem,
    sshHostCert: r.sshHostCert,
    expiresUnix: BigInt(Math.floor(r.expires.getTime() / 1000)),
    tlsHostCaPems: r.tlsHostCaPems,
    tlsUserCaPems: r.tlsUserCaPems,
    sshUserCaKeys: r.sshUserCaKeys,
  };
}

const unixSeconds = (iso: string) => {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? BigInt(Math.floor(ms / 1000)) : 0n;
};

/** A heartbeat's server fields, refused unless they name the caller's own certificate. */
function heartbeatOf(me: HostIdentity, s: ServerInfo | undefined): HeartbeatInput {
  if (!s) throw new GatehouseError(ErrorCode.BAD_REQUEST, 'heartbeat needs server');
  if (s.role !== me.role || s.name !== me.name || s.hostId !== me.hostId) {
    throw new GatehouseError(
      ErrorCode.ACCESS_DENIED,
      `heartbeat for ${s.role} "${s.name}" (host ${s.hostId}) does not match the caller's certificate (${me.role} "${me.name}", host ${me.hostId})`,
    );
  }
  return {
    address: s.address,
    hostname: s.hostname,
    version: s.version,
    labels: s.labels,
    ...(s.startedUnix > 0n ? { started_at: new Date(Number(s.startedUnix) * 1000).toISOString() } : {}),
    ...(s.ready !== undefined ? { ready: s.ready } : {}),
  };
}

function serverInfo(s: ListedServer) {
  return {
    role: s.role,
    name: s.name,
    hostId: s.host_id,
    address: s.address,
    hostname: s.hostname,
    version: s.version,
    labels: s.labels,
    lastHeartbeatUnix: unixSeconds(s.last_heartbeat),
    stale: s.stale,
    startedUnix: s.started_at ? unixSeconds(s.started_at) : 0n,
    ...(s.ready !== undefined ? { ready: s.ready } : {}),
  };
}

export function registerClusterService(deps: ClusterServiceDeps) {
  // A refused service certificate (another cluster's, expired, a user's) is a security decision:
  // it is answered with its reason and recorded, like a refused join.
  const host = async (ctx: HandlerContext, roles?: readonly ServiceRole[]): Promise<HostIdentity> => {
    const peer = ctx.values.get(peerKey);
    try {
      return requireHost(peer, roles);
    } catch (error) {
      const fields = { method: ctx.method.name, peer_address: peer.address };
      deps.log.warn('service call refused', { ...fields, reason: (error as Error).message });
      await recordRefusal(
        deps.audit,
        { type: 'service.auth.failed', success: false, message: (error as Error).message, fields },
        deps.log,
      );
      throw error;
    }
  };
  return (router: ConnectRouter) =>
    router.service(
      ClusterService,
      guarded(
        {
          join: async (req, ctx) =>
            joinResponse(
              await deps.join.join({
                token: req.token,
                role: req.role,
                name: req.name,
                sshPublicKey: req.sshPublicKey,
                tlsPublicKeyPem: req.tlsPublicKeyPem,
                dnsNames: req.dnsNames,
                ips: req.ips,
                peerAddress: ctx.values.get(peerKey).address,
              }),
            ),
          renewIdentity: async (req, ctx) =>
            joinResponse(
              await deps.join.renew(await host(ctx), {
                sshPublicKey: req.sshPublicKey,
                tlsPublicKeyPem: req.tlsPublicKeyPem,
                dnsNames: req.dnsNames,
                ips: req.ips,
              }),
            ),
          heartbeat: async (req, ctx) => {
            const me = await host(ctx);
            await deps.servers.heartbeat(me, heartbeatOf(me, req.server));
            return {};
          },
          removeServer: async (_req, ctx) => {
            const me = await host(ctx);
            await deps.servers.remove(me);
            deps.log.info('service removed itself', { role: me.role, name: me.name, host_id: me.hostId });
            return {};
          },
          listServers: async (req, ctx) => {
            const who = await requireUserCall(ctx.values.get(peerKey), deps);
            await deps.auth.access.requireResourceAccess(who, 'server', 'list');
            return { servers: (await deps.servers.list(req.role || undefined)).map(serverInfo) };
          },
          watchResources: async function* (req, ctx) {
            try {
              const me = await host(ctx);
              const kinds = allowedWatchKinds(me, req.kinds, Object.keys(deps.watch.prefixes));
              deps.log.info('resource watch started', { role: me.role, name: me.name, kinds: kinds.join(',') });
              yield* watchResources(deps.watch, kinds, ctx.signal);
            } catch (e) {
              throw toConnectError(e);
            }
          },
          emitAuditEvent: async (req, ctx) => {
            const me = await host(ctx);
            await deps.audit.emit(decodeServiceAuditEvent(me, req));
            return {};
          },
          ...clusterDbCalls({ auth: deps.auth, audit: deps.audit, log: deps.log, host }),
          ...clusterAppCalls({ auth: deps.auth, log: deps.log, host }),
        },
        deps.log,
      ),
    );
}
