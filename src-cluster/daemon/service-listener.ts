// What the db service's and the app service's compositions share: join auth in their role, start
// the local decision inputs, build and start their listener, register their configured resources
// with auth (retried with backoff while auth is away), heartbeat the advertised address (proxies
// dial it), follow host identity renewals, and stop in order. Each composition only says how to
// build its service and what to register.
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import { Backoff, sleep } from '../service/backoff.ts';
import type { ClusterClient } from '../service/join-client.ts';
import { ServiceRuntime } from '../service/service-runtime.ts';
import { localDecisions, type LocalDecisions } from './local-decisions.ts';
import type { DaemonConfig } from './config.ts';
import type { RunningService } from './proxy-composition.ts';
import type { JoinTarget } from './service-join.ts';
import { VERSION } from './version.ts';
import { registerServiceReadiness, type ProcessOps } from '../ops/process-ops.ts';
import type { AuditEmitter } from '../audit/audit-events.ts';

const isIp = (h: string) => /^[\d.]+$|:/.test(h);

/** DNS names and IPs for the certificate of a service named `name` listening on `listenHost`. */
export function serviceCertNames(name: string, listenHost: string): { dnsNames: string[]; ips: string[] } {
  const names = [...new Set([name, hostname(), listenHost])];
  return {
    dnsNames: names.filter((n) => !isIp(n)),
    ips: [...new Set(['127.0.0.1', ...names.filter(isIp).filter((n) => n !== '0.0.0.0')])],
  };
}

/** HOST:PORT the heartbeat advertises: a wildcard listener is reached by the host's name. */
export function advertisedAddress(listening: { host: string; port: number }): string {
  const host = listening.host === '0.0.0.0' || listening.host === '::' ? hostname() : listening.host;
  return `${host.includes(':') ? `[${host}]` : host}:${listening.port}`;
}

/**
 * Calls `register` until it succeeds or `signal` ends it, backing off from 1 s to 60 s while auth
 * is away; `what` names the registration in log lines ("the configured apps").
 */
export async function registerUntilDone(
  what: string,
  register: (signal: AbortSignal) => Promise<void>,
  log: Logger,
  signal: AbortSignal,
): Promise<void> {
  const backoff = new Backoff({ initialMs: 1_000, maxMs: 60_000 });
  while (!signal.aborted) {
    try {
      await register(signal);
      log.info(`registered ${what}`);
      return;
    } catch (e) {
      if (signal.aborted) return;
      if (backoff.attempt === 0) log.warn(`registering ${what} failed; retrying`, { error: (e as Error).message });
      await sleep(backoff.next(), signal);
    }
  }
}

export interface ServiceTls {
  certPem: string;
  keyPem: string;
  chainPem: string[];
}

/** The db service's and the app service's common shape. */
export interface ListeningService {
  start(): Promise<{ host: string; port: number }>;
  updateTls(tls: ServiceTls): void;
  close(message: string): Promise<void>;
}

export interface ListeningServiceSpec {
  role: 'db' | 'app';
  name: string;
  listenAddr: string;
  cfg: DaemonConfig;
  target: JoinTarget;
  ops: ProcessOps;
  log: Logger;
  build(inputs: {
    runtime: ServiceRuntime;
    /** The runtime's audit emitter, counting sessions (gatehouse_active_sessions) on the way. */
    audit: AuditEmitter;
    decisions: LocalDecisions;
    listenHost: string;
    listenPort: number;
    tls: ServiceTls;
  }): ListeningService;
  /** Its configured resources as JSON (all of them each time: a registration replaces the last). */
  register: { what: string; call(client: ClusterClient, signal: AbortSignal): Promise<unknown> };
  stopMessage: string;
}

export async function startListeningService(spec: ListeningServiceSpec): Promise<RunningService> {
  const { log } = spec;
  const [listenHost, listenPort] = splitHostPort(spec.listenAddr);
  const runtime = await ServiceRuntime.start({
    role: spec.role,
    name: spec.name,
    dataDir: spec.cfg.data_dir,
    ...spec.target,
    ...serviceCertNames(spec.name, listenHost),
    version: VERSION,
    log,
    startedAt: spec.ops.startedAt,
  });
  const decisions = localDecisions(runtime, log);
  const stopRegistering = new AbortController();
  try {
    await decisions.locks.start();
    registerServiceReadiness(spec.ops, spec.role, runtime, decisions.locks);
    const identity = runtime.identity;
    const service = spec.build({
      runtime,
      audit: spec.ops.auditMetrics.wrap(runtime.audit),
      decisions,
      listenHost,
      listenPort: Number(listenPort),
      tls: { certPem: identity.tls_cert_pem, keyPem: identity.tls_key_pem, chainPem: identity.tls_host_ca_pems },
    });
    runtime.onRenewed((next) =>
      service.updateTls({ certPem: next.tls_cert_pem, keyPem: next.tls_key_pem, chainPem: next.tls_host_ca_pems }),
    );
    const address = advertisedAddress(await service.start());
    // Always, even with none: a registration replaces the service's earlier one, so removals apply.
    void registerUntilDone(
      spec.register.what,
      async (signal) => void (await spec.register.call(runtime.client, signal)),
      log,
      stopRegistering.signal,
    );
    await runtime.startHeartbeat({ address, labels: {} });
    log.info(`${spec.role} service registered`, { name: spec.name, address });
    return {
      address,
      runtime,
      close: async (message) => {
        stopRegistering.abort();
        await service.close(message ?? spec.stopMessage);
        decisions.locks.close();
        await runtime.close(true);
      },
    };
  } catch (e) {
    stopRegistering.abort();
    decisions.locks.close();
    await runtime.close();
    throw e;
  }
}
