// The app service's composition: it joins auth as role "app" (service-join.ts), registers the
// apps of its configuration (ClusterService.RegisterApps), decides every connection and every
// request locally from its watched cache with the one authorizer, gets each user's JWT for the
// upstream from auth (ClusterService.SignAppToken, cached by the app service), and heartbeats its
// listener so proxies can route to it (docs/app-access.md "App service shape").
import type { Logger } from '../log/logger.ts';
import { AppService } from '../app/app-service.ts';
import type { ServedApp } from '../app/app-request.ts';
import { APP_ORIGIN_CONFIG, APP_ORIGIN_LABEL, APP_SERVICE_LABEL, type AppResource } from '../resources/app.ts';
import { parseDurationMs, type DaemonConfig } from './config.ts';
import type { InProcessAppServices, RunningService } from './proxy-composition.ts';
import type { ProcessOps } from '../ops/process-ops.ts';
import type { JoinTarget } from './service-join.ts';
import { startListeningService } from './service-listener.ts';

/** One SignAppToken call; the app service caches tokens, so this is paid once per certificate and app. */
const SIGN_APP_TOKEN_TIMEOUT_MS = 10_000;

/** A configured app (checked by the config) as the resource RegisterApps stores: labelled with its origin. */
export function configuredAppResource(app: AppResource, serviceName: string): AppResource {
  return {
    ...app,
    metadata: {
      ...app.metadata,
      labels: { ...app.metadata.labels, [APP_ORIGIN_LABEL]: APP_ORIGIN_CONFIG, [APP_SERVICE_LABEL]: serviceName },
    },
  };
}

function served(resource: AppResource): ServedApp {
  return { name: resource.metadata.name, labels: resource.metadata.labels ?? {}, ...resource.spec };
}

export async function startAppService(
  cfg: DaemonConfig,
  log: Logger,
  target: JoinTarget,
  ops: ProcessOps,
  inProcess?: InProcessAppServices,
): Promise<RunningService> {
  const name = cfg.app_service.name ?? cfg.node.name;
  // This service's own apps come from its config at once; the rest (gatectl create) from the cache.
  const configured = cfg.app_service.apps.map((app) => configuredAppResource(app, name));
  const own = new Map(configured.map((r) => [r.metadata.name, served(r)]));
  const resourceJson = configured.map((r) => JSON.stringify(r));
  let service: AppService | undefined;
  const running = await startListeningService({
    role: 'app',
    name,
    listenAddr: cfg.app_service.listen_addr,
    cfg,
    target,
    ops,
    log: log.child('app'),
    build: ({ runtime, audit, decisions, listenHost, listenPort, tls }) =>
      (service = new AppService({
        serviceName: name,
        listenHost,
        listenPort,
        tls,
        hostCaPems: () => runtime.identity.tls_host_ca_pems,
        userCaPems: () => runtime.cache.cas().tlsUserCaPems,
        findApp: async (appName) => {
          const mine = own.get(appName);
          if (mine) return mine;
          const r = await runtime.cache.apps.find(appName).catch(() => undefined);
          return r ? served(r as AppResource) : undefined;
        },
        authorize: (request) => decisions.access.authorize(request),
        locks: decisions.locks,
        audit,
        signAppToken: async (userCertPem, app) =>
          (await runtime.client.signAppToken({ userCertPem, app }, { timeoutMs: SIGN_APP_TOKEN_TIMEOUT_MS })).jwt,
        limits: {
          handshakeTimeoutMs: parseDurationMs(cfg.app_service.handshake_timeout),
          maxConnectionsPerSource: cfg.app_service.max_connections_per_ip,
        },
        log: log.child('app'),
      })),
    register: {
      what: `the configured apps (${resourceJson.length})`,
      call: (client, signal) => client.registerApps({ resourceJson }, { timeoutMs: 10_000, signal }),
    },
    stopMessage: 'the app service is shutting down',
  });
  // The proxy of this daemon (if it runs one) hands its app connections over in-process from now on.
  if (!inProcess || !service) return running;
  const mine = service;
  inProcess.set(name, mine);
  return {
    ...running,
    close: async (message) => {
      if (inProcess.get(name) === mine) inProcess.delete(name);
      await running.close(message);
    },
  };
}
