// One process's operations kit, built once by the composition root (daemon.ts) and handed to each
// service it starts: the metrics registry, the health checks, the audit-event counters and, when
// configured, the diagnostics listener serving them.
import type { Logger } from '../log/logger.ts';
import { DiagServer } from './diag-server.ts';
import { ProcessHealth } from './health.ts';
import { AuditMetrics } from './metered-audit.ts';
import { ProcessMetrics } from './metrics.ts';

export interface ProcessOps {
  metrics: ProcessMetrics;
  health: ProcessHealth;
  auditMetrics: AuditMetrics;
  /** When this process started, for heartbeats ("age" in `gatectl status`). */
  startedAt: Date;
}

export function createProcessOps(version: string): ProcessOps {
  const metrics = new ProcessMetrics(version);
  return { metrics, health: new ProcessHealth(), auditMetrics: new AuditMetrics(metrics), startedAt: new Date() };
}

/** Starts the diagnostics listener; resolves with its HOST:PORT and how to stop it. */
export async function startDiagnostics(
  ops: ProcessOps,
  listenAddr: string,
  log: Logger,
): Promise<{ address: string; close(): Promise<void> }> {
  const server = new DiagServer({ listenAddr, health: ops.health, metrics: ops.metrics, log });
  const address = await server.start();
  if (!/^(127\.|\[::1\]|localhost:)/.test(address)) {
    // Allowed (probes from a kubelet need it) but worth a line: /metrics tells who logs in how often.
    log.warn('diagnostics listener is not on loopback; keep it off untrusted networks', { address });
  }
  log.info('diagnostics listener started', { address, endpoints: '/healthz /readyz /metrics' });
  return { address, close: () => server.close() };
}

/**
 * readyz checks of a joined service (proxy, node, db, app): its watch stream to auth is up, and
 * its lock view (the cache it refuses sessions from) is loaded and current.
 */
export function registerServiceReadiness(
  ops: ProcessOps,
  role: string,
  runtime: { readonly connected: boolean },
  locks: { readonly healthy: boolean },
): void {
  ops.health.addReadiness(`${role}_auth_connection`, () => {
    if (!runtime.connected) throw new Error('not connected to auth (no watch stream)');
  });
  ops.health.addReadiness(`${role}_caches`, () => {
    if (!locks.healthy) throw new Error('the lock view is not loaded or is cut off from auth');
  });
}
