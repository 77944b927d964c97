// The app service's composition: it joins auth as role "app" (service-join.ts), registers the
// apps of its configuration (ClusterService.RegisterApps), decides every connection and every
// request locally from its watched cache with the one authorizer, gets each user's JWT for the
// upstream from auth (ClusterService.SignAppToken, cached by the app service), and heartbeats its
// listener so proxies can route to it (docs/app-access.md "App service shape").
import type { Logger } from '../log/logger.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import { ServiceRuntime } from '../service/service-runtime.ts';
import { AppService } from '../app/app-service.ts';
import type { ServedApp } from '../app/app-request.ts';
import { APP_ORIGIN_CONFIG, APP_ORIGIN_LABEL, APP_SERVICE_LABEL, type AppResource } from '../resources/app.ts';
import { localDecisions } from './local-decisions.ts';
import { parseDurationMs, type DaemonConfig } from './config.ts';
import type { RunningService } from './proxy-composition.ts';
import type { JoinTarget } from './service-join.ts';
import { advertisedAddress, registerUntilDone, serviceCertNames } from './service-listener.ts';
import { VERSION } from './version.ts';

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

export async function startAppService(cfg: DaemonConfig, log: Logger, target: JoinTarget): Promise<RunningService> {
  const appLog = log.child('app');
  const name = cfg.app_service.name ?? cfg.node.name;
  const [listenHost, listenPort] = splitHostPort(cfg.app_service.listen_addr);
  const runtime = await ServiceRuntime.start({
    role: 'app',
    name,
    dataDir: cfg.data_dir,
    ...target,
    ...serviceCertNames(name, listenHost),
    version: VERSION,
    log: appLog,
  });
  const { cache } = runtime;
  const { locks, access } = localDecisions(runtime, appLog);
  const stopRegistering = new AbortController();
  try {
    await locks.start();
    // This service's own apps come from its config at once; the rest (gatectl create) from the cache.
    const configured = cfg.app_service.apps.map((app) => configuredAppResource(app, name));
    const own = new Map(configured.map((r) => [r.metadata.name, served(r)]));
    const identity = runtime.identity;
    const service = new AppService({
      serviceName: name,
      listenHost,
      listenPort: Number(listenPort),
      tls: { certPem: identity.tls_cert_pem, keyPem: identity.tls_key_pem, chainPem: identity.tls_host_ca_pems },
      hostCaPems: () => runtime.identity.tls_host_ca_pems,
      userCaPems: () => cache.cas().tlsUserCaPems,
      findApp: async (appName) => {
        const mine = own.get(appName);
        if (mine) return mine;
        const r = await cache.apps.find(appName).catch(() => undefined);
        return r ? served(r as AppResource) : undefined;
      },
      authorize: (request) => access.authorize(request),
      locks,
      audit: runtime.audit,
      signAppToken: async (userCertPem, app) =>
        (await runtime.client.signAppToken({ userCertPem, app }, { timeoutMs: SIGN_APP_TOKEN_TIMEOUT_MS })).jwt,
      limits: {
        handshakeTimeoutMs: parseDurationMs(cfg.app_service.handshake_timeout),
        maxConnectionsPerSource: cfg.app_service.max_connections_per_ip,
      },
      log: appLog,
    });
    runtime.onRenewed((next) =>
      service.updateTls({ certPem: next.tls_cert_pem, keyPem: next.tls_key_pem, chainPem: next.tls_host_ca_pems }),
    );
    const address = advertisedAddress(await service.start());
    // Always, even with none: a registration replaces the service's earlier one, so removals apply.
    const resourceJson = configured.map((r) => JSON.stringify(r));
    void registerUntilDone(
      `the configured apps (${resourceJson.length})`,
      async (signal) => void (await runtime.client.registerApps({ resourceJson }, { timeoutMs: 10_000, signal })),
      appLog,
      stopRegistering.signal,
    );
    await runtime.startHeartbeat({ address, labels: {} });
    appLog.info('app service registered', { name, address, apps: configured.length });
    return {
      address,
      runtime,
      close: async (message) => {
        stopRegistering.abort();
        await service.close(message ?? 'the app service is shutting down');
        locks.close();
        await runtime.close(true);
      },
    };
  } catch (e) {
    stopRegistering.abort();
    locks.close();
    await runtime.close();
    throw e;
  }
}
