// The db service's composition: it joins auth as role "db" (service-join.ts), registers the
// databases of its configuration (ClusterService.RegisterDatabases), decides every session
// locally from its watched cache with the one authorizer, gets client certificates for the
// database users from auth, and heartbeats its listener so proxies can route to it.
import type { Logger } from '../log/logger.ts';
import { DbService } from '../db/db-service.ts';
import type { ServedDatabase } from '../db/db-request.ts';
import {
  DATABASE_KIND,
  DB_ORIGIN_CONFIG,
  DB_ORIGIN_LABEL,
  DB_SERVICE_LABEL,
  type DatabaseResource,
} from '../resources/database.ts';
import type { DbEngine } from '../db/engine.ts';
import { DbClientCerts } from '../db/upstream-tls.ts';
import { parseDurationMs, type DaemonConfig } from './config.ts';
import type { ConfiguredDatabase } from './db-config.ts';
import type { RunningService } from './proxy-composition.ts';
import type { ProcessOps } from '../ops/process-ops.ts';
import type { JoinTarget } from './service-join.ts';
import { startListeningService } from './service-listener.ts';

/** A configured database as the kind "db" resource RegisterDatabases stores. */
export function configuredDatabaseResource(db: ConfiguredDatabase, serviceName: string): DatabaseResource {
  const tls = db.tls?.ca_cert || db.tls?.server_name ? { ...db.tls } : undefined;
  delete tls?.ca_cert_file;
  return {
    kind: DATABASE_KIND,
    version: 'v3',
    metadata: {
      name: db.name,
      ...(db.description ? { description: db.description } : {}),
      labels: { ...db.labels, [DB_ORIGIN_LABEL]: DB_ORIGIN_CONFIG, [DB_SERVICE_LABEL]: serviceName },
    },
    spec: { protocol: db.protocol, uri: db.uri, ...(tls ? { tls } : {}) },
  };
}

function served(resource: DatabaseResource): ServedDatabase {
  return { name: resource.metadata.name, labels: resource.metadata.labels ?? {}, ...resource.spec };
}

export async function startDbService(
  cfg: DaemonConfig,
  log: Logger,
  target: JoinTarget,
  ops: ProcessOps,
  engines: readonly DbEngine[],
): Promise<RunningService> {
  const name = cfg.db_service.name ?? cfg.node.name;
  // This service's own databases come from its config; the rest (gatectl create) from the cache.
  const configured = cfg.db_service.databases.map((db) => configuredDatabaseResource(db, name));
  const own = new Map(configured.map((r) => [r.metadata.name, served(r)]));
  const resourceJson = configured.map((r) => JSON.stringify(r));
  return startListeningService({
    role: 'db',
    name,
    listenAddr: cfg.db_service.listen_addr,
    cfg,
    target,
    ops,
    log: log.child('db'),
    build: ({ runtime, audit, decisions, listenHost, listenPort, tls }) => {
      const { cache } = runtime;
      const certs = new DbClientCerts(() => runtime.client);
      return new DbService({
        serviceName: name,
        listenHost,
        listenPort,
        tls,
        hostCaPems: () => runtime.identity.tls_host_ca_pems,
        userCaPems: () => cache.cas().tlsUserCaPems,
        findDatabase: async (dbName) => {
          const mine = own.get(dbName);
          if (mine) return mine;
          const r = await cache.databases.find(dbName).catch(() => undefined);
          return r ? { name: r.metadata.name, labels: r.metadata.labels ?? {}, ...r.spec } : undefined;
        },
        authorize: (request) => decisions.access.authorize(request),
        engines,
        upstreamFor: (db, dbUser, timeoutMs) => certs.upstreamFor(db, dbUser, timeoutMs),
        locks: decisions.locks,
        audit,
        deviceTrustMode: () => cache.preference().spec.device_trust.mode,
        limits: {
          handshakeTimeoutMs: parseDurationMs(cfg.db_service.handshake_timeout),
          maxConnectionsPerSource: cfg.db_service.max_connections_per_ip,
        },
        log: log.child('db'),
      });
    },
    register: {
      what: `the configured databases (${resourceJson.length})`,
      call: (client, signal) => client.registerDatabases({ resourceJson }, { timeoutMs: 10_000, signal }),
    },
    stopMessage: 'the db service is shutting down',
  });
}
