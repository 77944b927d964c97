// The one place the main services are built and wired: the Electron main process and the
// browser host each call composeServices() once with the app's home directory and get every
// service, sharing one client core, one clusters file and one event emitter. No module-level
// state: two composed apps (as in tests) are fully independent.
import { clientVersion } from '../core/version.ts';
import { GatehouseClient } from '../core/gatehouse-client.ts';
import { systemClock, type Clock, type CoreLogger } from '../core/types.ts';
import { builtinRouteProtocols, GatewayService } from '../gateways/gateway-service.ts';
import type { AppInfo } from '../ipc/contract.ts';
import { badRequest } from '../ipc/ipc-errors.ts';
import { AppClusterStore } from './app-clusters.ts';
import { AuthService } from './auth-service.ts';
import { ClustersService } from './clusters-service.ts';
import { deviceCoreOf } from './device-core.ts';
import { DeviceService, type DeviceSessions } from './device-service.ts';
import { EnrollmentFileWatcher } from './enrollment-file-watcher.ts';
import { AppEvents } from './events.ts';
import { AppGateways } from './gateways-service.ts';
import { toAppLogger, type AppLogger } from './logger.ts';
import { localUserName, ResourcesService } from './resources-service.ts';
import { ClusterClients, Sessions } from './sessions.ts';
import { TerminalsService } from './terminals-service.ts';

export interface ComposeOptions {
  /** The app's data directory (keys, certificates, pins, clusters file); created 0700 on first write. */
  home: string;
  clock?: Clock;
  logger?: CoreLogger | AppLogger;
  /** Which host runs the services, for app.info (default "electron"; the browser host passes "browser"). */
  host?: AppInfo['host'];
  /** Opens an http(s) URL in the user's browser (Electron: shell.openExternal). Without it the call is refused. */
  openExternal?: (url: string) => Promise<void>;
  /**
   * Opens an app gateway's http://localhost:PORT/ in the user's browser (Electron:
   * shell.openExternal). Without it (the browser host) Launch answers with the URL and the
   * renderer, a browser tab there, opens it.
   */
  openLocalUrl?: (url: string) => Promise<void>;
  /** The OS user offered first as a login; default: the current one. */
  localUser?: string;
  /** Network deadline per API call / SSH handshake. */
  timeoutMs?: number;
  /** The version app.info reports (default: package.json's, read at start; a bundle passes its own). */
  version?: string;
  /** Output kept per terminal while no stream is attached (bytes). */
  terminalBufferLimit?: number;
  /**
   * The device store (TPM-wrapped AK, enrollments.json), shared with `gate` per OS user; default:
   * the core's resolveDeviceHome(env), adopting a legacy store (docs/device-trust-app.md).
   */
  deviceHome?: string;
  /** Environment the device store and TPM are resolved from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Watch the device store for enrollments made outside the app (default true). */
  watchEnrollments?: boolean;
  /** The TPM addon's file (the packaged app's resources dir); default: the repository's native/build. */
  tpmAddonPath?: string;
  /** How long the TPM session stays open unused between logins (ms); default APP_TPM_SESSION_IDLE_MS. */
  keepTpmSessionMs?: number;
}

/**
 * An hour: logins in the app come at start, on expiry and per cluster; a kept session costs one
 * TPM connection (shared through the kernel's resource manager) and one loaded key slot.
 */
export const APP_TPM_SESSION_IDLE_MS = 60 * 60 * 1000;

export interface AppServices {
  readonly home: string;
  readonly events: AppEvents;
  readonly log: AppLogger;
  readonly core: GatehouseClient;
  info(): AppInfo;
  clusters: ClustersService;
  auth: AuthService;
  resources: ResourcesService;
  terminals: TerminalsService;
  /** Local listeners (127.0.0.1) that carry a route through the proxy for stock clients. */
  gateways: AppGateways;
  shell: { openExternal(url: string): Promise<null> };
  /** This device: status, enrollment, diagnostics, my devices. */
  device: DeviceService;
  /** Ends the terminals, stops the timers and closes the cluster connections. */
  close(): Promise<void>;
}

export function composeServices(opts: ComposeOptions): AppServices {
  const clock = opts.clock ?? systemClock;
  const log = toAppLogger(opts.logger);
  const core = new GatehouseClient({
    home: opts.home,
    ...(opts.deviceHome ? { deviceHome: opts.deviceHome } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.tpmAddonPath ? { tpmAddonPath: opts.tpmAddonPath } : {}),
    clock,
    logger: log,
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    // The app runs for hours and logs in again (expiry, other clusters): keep the TPM session.
    keepTpmSession: { idleMs: opts.keepTpmSessionMs ?? APP_TPM_SESSION_IDLE_MS },
  });
  const events = new AppEvents(log);
  const store = new AppClusterStore(opts.home);
  const clients = new ClusterClients(core, (proxy) => store.get(proxy)?.proxies);
  const sessions = new Sessions({ core, store, events, clock, log });
  const terminals = new TerminalsService({
    core,
    sessions,
    events,
    log,
    ...(opts.terminalBufferLimit ? { bufferLimit: opts.terminalBufferLimit } : {}),
  });
  const resources = new ResourcesService({
    clients,
    sessions,
    localUser: 'localUser' in opts ? opts.localUser : localUserName(),
  });
  const gateways = new AppGateways({
    core,
    sessions,
    events,
    terminals,
    gateways: new GatewayService({ protocols: builtinRouteProtocols(), logger: log }),
    findApp: async (proxy, name) => (await resources.listApps(proxy)).find((a) => a.name === name),
    ...(opts.openLocalUrl ? { openLocalUrl: opts.openLocalUrl } : {}),
  });
  const auth = new AuthService({ core, store, clients, sessions, terminals, gateways, clock, log });
  const clusters = new ClustersService({ core, store, clients, sessions, auth, clock, log });
  const version = opts.version ?? clientVersion();
  const host = opts.host ?? 'electron';
  const deviceSessions: DeviceSessions = {
    proxies: () => store.list().map((e) => e.proxy),
    profileOf: (proxy) => sessions.profileOf(proxy),
    require: (proxy) => sessions.require(proxy),
    current: () => store.current(),
    watch: (proxy, profile) => sessions.watch(proxy, profile),
  };
  const device = new DeviceService({
    core: deviceCoreOf(core, clients),
    sessions: deviceSessions,
    events,
    clock,
    log,
    version,
  });
  const enrollmentWatcher =
    opts.watchEnrollments === false
      ? undefined
      : new EnrollmentFileWatcher({
          directory: core.deviceHome,
          log,
          onChange: () => void device.enrollmentFileChanged(),
        });
  sessions.watchAll();
  enrollmentWatcher?.start();

  return {
    home: opts.home,
    events,
    log,
    core,
    info: () => ({ version, host, platform: process.platform }),
    clusters,
    auth,
    resources,
    terminals,
    gateways,
    device,
    shell: {
      async openExternal(url: string): Promise<null> {
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          throw badRequest(`"${url}" is not a URL`);
        }
        // Only web links: file:, javascript: or custom schemes from a page must not run things.
        if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
          throw badRequest(`only http and https links can be opened, not ${parsed.protocol}`);
        }
        if (!opts.openExternal)
          throw badRequest(`this app cannot open links itself; open ${parsed.href} in your browser`);
        await opts.openExternal(parsed.href);
        return null;
      },
    },
    async close() {
      enrollmentWatcher?.close();
      sessions.close();
      await terminals.closeAll();
      await gateways.closeAll();
      await clients.closeAll();
      await core.close();
    },
  };
}
