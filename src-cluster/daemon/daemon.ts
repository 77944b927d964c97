// Composition root of `gatehouse start`: runs the services the config (or --roles) asks for.
// Auth, proxy, node, db service and app service each have their own composition file; this one
// only orders them. Proxy, node, db and app services always join auth over its API — through loopback when auth runs in this process —
// so the single process and the multi-process cluster take the same code path.
import { chmodSync, mkdirSync } from 'node:fs';
import type { Backend } from '../storage/backend.ts';
import type { Logger } from '../log/logger.ts';
import { BUILTIN_ADMIN_USER } from '../../src-shared/cert-fields.ts';
import type { DaemonConfig } from './config.ts';
import { writeAdminIdentity } from './admin-identity.ts';
import { startAuthService, type RunningAuth } from './auth-composition.ts';
import { startProxyService, type InProcessAppServices, type RunningService } from './proxy-composition.ts';
import type { InProcessNodes } from './in-process-nodes.ts';
import { startNodeService } from './node-composition.ts';
import { startDbService } from './db-composition.ts';
import { startAppService } from './app-composition.ts';
import { defaultDbEngines } from '../db/engines.ts';
import { joinTargetFor } from './service-join.ts';
import { createProcessOps, startDiagnostics, type ProcessOps } from '../ops/process-ops.ts';
import { VERSION } from './version.ts';

export { VERSION };

export interface RunningDaemon {
  clusterName: string;
  proxyAddress?: string;
  nodeAddress?: string;
  /** The db service's listener (proxies dial it), when it runs in this process. */
  dbServiceAddress?: string;
  /** The app service's listener (proxies dial it), when it runs in this process. */
  appServiceAddress?: string;
  /** Auth's API listener, when auth runs in this process. */
  authAddress?: string;
  adminIdentityPath?: string;
  /** Auth's storage, when auth runs in this process. */
  backend?: Backend;
  /** The diagnostics listener (/healthz, /readyz, /metrics), when configured. */
  diagAddress?: string;
  /** This process's metrics registry and health checks. */
  ops: ProcessOps;
  close(message?: string): Promise<void>;
}

export async function startDaemon(cfg: DaemonConfig, log: Logger): Promise<RunningDaemon> {
  mkdirSync(cfg.data_dir, { recursive: true, mode: 0o700 });
  chmodSync(cfg.data_dir, 0o700);
  // The process's one metrics registry and set of health checks, handed to every service below.
  const ops = createProcessOps(VERSION);
  let started = false;
  ops.health.addReadiness('startup', () => {
    if (!started) throw new Error('the services are still starting');
  });
  const closers: ((message?: string) => Promise<void>)[] = [];
  const close = async (message?: string) => {
    ops.health.shuttingDown();
    for (const c of closers.reverse())
      await c(message).catch((e: Error) => log.error('shutdown step failed', { error: e.message }));
  };
  try {
    // First, so probes see "alive, not ready" while the services start (a join may take a while).
    const diag = cfg.diagnostics.listen_addr
      ? await startDiagnostics(ops, cfg.diagnostics.listen_addr, log.child('diag'))
      : undefined;
    if (diag) closers.push(() => diag.close());
    let auth: RunningAuth | undefined;
    if (cfg.auth.enabled) {
      auth = await startAuthService(cfg, log, ops);
      closers.push(() => auth!.close());
    }
    const running: RunningDaemon = { clusterName: auth?.clusterName ?? '', ops, close };
    if (diag) running.diagAddress = diag.address;
    if (auth) {
      running.authAddress = auth.apiAddress;
      running.backend = auth.backend;
    }
    // App services of this process, which its proxy reaches in-process rather than over loopback TLS.
    const inProcessApps: InProcessAppServices = new Map();
    // Likewise its node: SSH connections skip a loopback TCP hop and the relay (BENCHMARKS.md).
    const inProcessNodes: InProcessNodes = new Map();
    let proxy: RunningService | undefined;
    if (cfg.proxy.enabled) {
      proxy = await startProxyService(cfg, log, await joinTargetFor(cfg, 'proxy', auth), ops, {
        apps: inProcessApps,
        nodes: inProcessNodes,
      });
      closers.push(() => proxy!.close());
      running.proxyAddress = proxy.address;
      running.clusterName ||= proxy.runtime.identity.cluster_name;
    }
    if (cfg.node.enabled) {
      const node = await startNodeService(cfg, log, await joinTargetFor(cfg, 'node', auth), ops, inProcessNodes);
      closers.push((message) => node.close(message));
      running.nodeAddress = node.address;
      running.clusterName ||= node.runtime.identity.cluster_name;
    }
    if (cfg.db_service.enabled) {
      const db = await startDbService(cfg, log, await joinTargetFor(cfg, 'db', auth), ops, defaultDbEngines());
      closers.push((message) => db.close(message));
      running.dbServiceAddress = db.address;
      running.clusterName ||= db.runtime.identity.cluster_name;
    }
    if (cfg.app_service.enabled) {
      const app = await startAppService(cfg, log, await joinTargetFor(cfg, 'app', auth), ops, inProcessApps);
      closers.push((message) => app.close(message));
      running.appServiceAddress = app.address;
      running.clusterName ||= app.runtime.identity.cluster_name;
    }
    if (auth) {
      // gatectl on this host: through the proxy when it runs here (as users come), else auth's listener.
      running.adminIdentityPath = await writeAdminIdentity(
        cfg.data_dir,
        auth.auth,
        running.proxyAddress ?? auth.apiAddress,
        BUILTIN_ADMIN_USER,
        auth.backend,
      );
    }
    started = true;
    return running;
  } catch (e) {
    await close();
    throw e;
  }
}
