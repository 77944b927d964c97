// The proxy service's composition: it joins auth (service-join.ts), decides SSH routing locally
// from its watched cache (nodes, users, roles, locks) with the one authorizer, routes database
// connections to db services and app connections to app services from the same cache, serves the
// JWKS (from auth's GetJwks) at /.well-known/jwks.json, and forwards every API call to auth over
// mTLS with its host certificate.
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.ts';
import { ApiForwarder } from '../proxy/api-forwarder.ts';
import { ProxyServer } from '../proxy/proxy.ts';
import { inProcessNodeFor, type InProcessNodes } from './in-process-nodes.ts';
import type { DbRouteBackends } from '../proxy/db-route.ts';
import type { AppRouteBackends, InProcessAppService } from '../proxy/app-route.ts';
import { JwksSource } from '../proxy/jwks-endpoint.ts';
import type { ServiceHostTls } from '../proxy/service-route.ts';
import { DB_SERVICE_LABEL } from '../resources/database.ts';
import { APP_SERVICE_LABEL, appKindOf } from '../resources/app.ts';
import type { ServerDirectory } from '../service/service-servers.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import { ServiceRuntime } from '../service/service-runtime.ts';
import { localDecisions } from './local-decisions.ts';
import { parseDurationMs, type DaemonConfig } from './config.ts';
import type { JoinTarget } from './service-join.ts';
import { VERSION } from './version.ts';
import { registerServiceReadiness, type ProcessOps } from '../ops/process-ops.ts';

export interface RunningService {
  address: string;
  runtime: ServiceRuntime;
  close(message?: string): Promise<void>;
}

const isIp = (h: string) => /^[\d.]+$|:/.test(h);

function hostTlsOf(runtime: ServiceRuntime): ServiceHostTls {
  return {
    certPem: runtime.identity.tls_cert_pem,
    keyPem: runtime.identity.tls_key_pem,
    caPems: runtime.identity.tls_host_ca_pems,
  };
}

/**
 * The live service for a resource: a configured one (labelled with its service) only from that
 * service, one created with gatectl from any live service of the kind (each serves them all).
 */
function liveServiceFor(servers: ServerDirectory, servedBy: string | undefined) {
  if (servedBy !== undefined) return servers.live(servedBy);
  const live = servers.allLive();
  return live[Math.floor(Math.random() * live.length)];
}

/** Database routing from the cache. */
function proxyDatabaseRoutes(runtime: ServiceRuntime): DbRouteBackends {
  const { cache } = runtime;
  const find = (name: string) => cache.databases.find(name).catch(() => undefined);
  return {
    findDatabase: async (name) => {
      const db = await find(name);
      return db ? { name: db.metadata.name, protocol: db.spec.protocol } : undefined;
    },
    dbServiceFor: async (name) =>
      liveServiceFor(cache.dbServers, (await find(name))?.metadata.labels?.[DB_SERVICE_LABEL]),
    hostTls: () => hostTlsOf(runtime),
  };
}

/** App routing from the cache, as databases. */
function proxyAppRoutes(runtime: ServiceRuntime, inProcess?: InProcessAppServices): AppRouteBackends {
  const { cache } = runtime;
  const find = (name: string) => cache.apps.find(name).catch(() => undefined);
  return {
    findApp: async (name) => {
      const app = await find(name);
      return app ? { name: app.metadata.name, kind: appKindOf(app) } : undefined;
    },
    appServiceFor: async (name) =>
      liveServiceFor(cache.appServers, (await find(name))?.metadata.labels?.[APP_SERVICE_LABEL]),
    hostTls: () => hostTlsOf(runtime),
    ...(inProcess ? { inProcessAppService: (name: string) => inProcess.get(name) } : {}),
  };
}

/**
 * The app services started in this daemon, by name, for its proxy to hand connections to
 * in-process (daemon.ts shares one between the two compositions).
 */
export type InProcessAppServices = Map<string, InProcessAppService>;

/** What the daemon's proxy may reach without a network hop. */
export interface InProcessServices {
  apps?: InProcessAppServices;
  nodes?: InProcessNodes;
}

/** The names the proxy's certificate must carry: where clients dial it. */
function proxyNames(cfg: DaemonConfig): { dnsNames: string[]; ips: string[] } {
  const [host] = splitHostPort(cfg.proxy.listen_addr);
  const [publicHost] = splitHostPort(cfg.proxy.public_addr ?? cfg.proxy.listen_addr);
  const names = [...new Set(['localhost', hostname(), host, publicHost])];
  return {
    dnsNames: names.filter((n) => !isIp(n)),
    ips: [...new Set(['127.0.0.1', ...names.filter(isIp).filter((n) => n !== '0.0.0.0')])],
  };
}

export async function startProxyService(
  cfg: DaemonConfig,
  log: Logger,
  target: JoinTarget,
  ops: ProcessOps,
  inProcess: InProcessServices = {},
): Promise<RunningService> {
  const proxyLog = log.child('proxy');
  const runtime = await ServiceRuntime.start({
    role: 'proxy',
    name: cfg.proxy.name ?? hostname().split('.')[0]!,
    dataDir: cfg.data_dir,
    ...target,
    ...proxyNames(cfg),
    version: VERSION,
    log: proxyLog,
    startedAt: ops.startedAt,
  });
  const { cache } = runtime;
  const { locks, access } = localDecisions(runtime, proxyLog);
  try {
    await locks.start();
    registerServiceReadiness(ops, 'proxy', runtime, locks);
    const forwarder = new ApiForwarder({
      authAddresses: runtime.authAddresses,
      tls: () => ({
        caPems: runtime.identity.tls_host_ca_pems,
        certPem: runtime.identity.tls_cert_pem,
        keyPem: runtime.identity.tls_key_pem,
      }),
      log: proxyLog.child('forward'),
    });
    const identity = runtime.identity;
    const proxy = new ProxyServer({
      listenHost: splitHostPort(cfg.proxy.listen_addr)[0],
      listenPort: Number(splitHostPort(cfg.proxy.listen_addr)[1]),
      tls: { certPem: identity.tls_cert_pem, keyPem: identity.tls_key_pem, chainPem: identity.tls_host_ca_pems },
      userCaPems: () => cache.cas().tlsUserCaPems,
      hostCaPems: () => runtime.identity.tls_host_ca_pems,
      apiHandler: forwarder.handler,
      backends: {
        // A local decision from the cache: routing keeps working while auth restarts.
        findNode: async (id, name) => {
          const node = await cache.nodes.find(name).catch(() => undefined);
          if (!node) return undefined;
          const ua = await access.forIdentity({ user: id.user, roles: id.roles });
          if (!ua.roleSet.canSeeNode({ name, labels: node.spec.labels })) return undefined;
          return { name, address: node.spec.address };
        },
        inProcessNode: (node) => inProcessNodeFor(inProcess.nodes, node),
      },
      databases: proxyDatabaseRoutes(runtime),
      apps: proxyAppRoutes(runtime, inProcess.apps),
      jwks: new JwksSource({
        // Through the runtime's client (renewals apply), so auth's JWT keys are one call away.
        fetch: async (timeoutMs) => (await runtime.client.getJwks({}, { timeoutMs })).jwksJson,
        log: proxyLog.child('jwks'),
      }),
      logger: proxyLog,
      limits: {
        handshakeTimeoutMs: parseDurationMs(cfg.proxy.handshake_timeout),
        idleTimeoutMs: parseDurationMs(cfg.proxy.idle_timeout),
        maxConnectionsPerSource: cfg.proxy.max_connections_per_ip,
      },
    });
    // A renewed identity (and a CA change) must reach new TLS handshakes before the old cert expires.
    runtime.onRenewed((next) =>
      proxy.updateTls({ certPem: next.tls_cert_pem, keyPem: next.tls_key_pem, chainPem: next.tls_host_ca_pems }),
    );
    cache.onCasChanged(() => {
      const current = runtime.identity;
      proxy.updateTls({
        certPem: current.tls_cert_pem,
        keyPem: current.tls_key_pem,
        chainPem: current.tls_host_ca_pems,
      });
    });
    const addr = await proxy.start();
    const address = `${addr.host}:${addr.port}`;
    await runtime.startHeartbeat({ address: cfg.proxy.public_addr ?? address, labels: {} });
    return {
      address,
      runtime,
      close: async () => {
        await proxy.close();
        forwarder.close();
        locks.close();
        await runtime.close(true);
      },
    };
  } catch (e) {
    locks.close();
    await runtime.close();
    throw e;
  }
}
