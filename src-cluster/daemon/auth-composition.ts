// The auth service's composition: storage, CAs, users and roles, devices, locks, audit, the
// authorizer, and auth's own API listener serving AuthService, DeviceTrustService,
// ClusterService and JoinTokenService. Nothing else in the cluster reaches these objects: the
// proxy and the node (also in this process) join and talk to auth only through that listener.
import { hostname } from 'node:os';
import { createPresetRoles, identityStores } from '../auth/identity-stores.ts';
import type { Backend } from '../storage/backend.ts';
import { createDefaultRegistry } from '../resources/index.ts';
import { loadOrCreateAuthorities, type CertAuthorities } from '../auth/authorities.ts';
import { AuthServer } from '../auth/auth-server.ts';
import { AccessChecker } from '../authz/access.ts';
import { ResourceAdmin } from '../api/resource-admin.ts';
import { migrateDeviceIndexes } from '../devicetrust/device-index-migration.ts';
import { DeviceInventory } from '../devicetrust/inventory.ts';
import { ekpubRiskWarning } from '../devicetrust/attestation-policy.ts';
import { loadEkCertAllowedCas } from '../devicetrust/ek-cas.ts';
import { ClusterAuthPreferenceService } from '../auth/cluster-auth-preference.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import type { Logger } from '../log/logger.ts';
import { parseDurationMs, type DaemonConfig } from './config.ts';
import { openClusterBackend } from './storage-composition.ts';
import { LockWatcher } from '../locks/lock-watcher.ts';
import { LockService, lockStore } from '../locks/lock-service.ts';
import { ApiListener } from '../api/api-listener.ts';
import { authApiHandler } from './auth-api.ts';
import type { JoinTokenStore } from '../join/join-tokens.ts';
import type { JoinableRole } from '../service/host-identity-file.ts';
import { MeteredBackend } from '../ops/metered-backend.ts';
import { MeteredAuditLog } from '../ops/metered-audit.ts';
import { AuthPresence } from '../ops/auth-presence.ts';
import type { ProcessOps } from '../ops/process-ops.ts';
import { VERSION } from './version.ts';

/** Where auth listens when the config names no address: loopback, a port the OS picks. */
const INTERNAL_AUTH_LISTEN = '127.0.0.1:0';
/** An internal join token lives just long enough for the in-process services to use it. */
const INTERNAL_TOKEN_TTL_MS = 5 * 60_000;

export interface RunningAuth {
  clusterName: string;
  backend: Backend;
  auth: AuthServer;
  cas: CertAuthorities;
  /** HOST:PORT of auth's API listener. */
  apiAddress: string;
  /** The TLS host CA services verify auth against. */
  tlsHostCaPems: string[];
  /** A single-use join token for a service of this process (the single-process topology). */
  internalJoinToken(role: JoinableRole): Promise<string>;
  close(): Promise<void>;
}

async function clusterNameOf(backend: Backend, wanted: string): Promise<string> {
  const item = await backend.get('/cluster/name');
  if (item) return item.value;
  await backend.create({ key: '/cluster/name', value: wanted }).catch(() => undefined);
  return (await backend.get('/cluster/name'))?.value ?? wanted;
}

function preferenceFor(cfg: DaemonConfig, backend: Backend, log: Logger): ClusterAuthPreferenceService {
  // The config's auth settings seed the cluster auth preference; from then on the stored
  // preference is what applies (see src-cluster/auth/cluster-auth-preference.ts).
  return new ClusterAuthPreferenceService({
    backend,
    config: {
      secondFactor: cfg.auth.second_factor,
      ekCertAllowedCas: loadEkCertAllowedCas(cfg.auth.device_trust.ekcert_allowed_cas),
      ekpubAllowed: cfg.auth.device_trust.ekpub_allowed,
    },
    log: log.child('auth'),
  });
}

export async function startAuthService(cfg: DaemonConfig, log: Logger, ops: ProcessOps): Promise<RunningAuth> {
  // Every storage call of auth is timed in one place (src-cluster/ops/metered-backend.ts).
  const backend = new MeteredBackend(await openClusterBackend(cfg, log), ops.metrics);
  const closers: (() => Promise<void>)[] = [() => backend.close()];
  const close = async () => {
    for (const c of closers.reverse())
      await c().catch((e: Error) => log.error('shutdown step failed', { error: e.message }));
  };
  try {
    const clusterName = await clusterNameOf(backend, cfg.cluster_name);
    const { roles, users } = identityStores(backend);
    await createPresetRoles(roles, (role) => log.info('created preset role', { role }));
    const migrated = await migrateDeviceIndexes(backend);
    if (migrated.applied) log.info('backfilled device index keys (data migration device-indexes-1)', {});
    for (const c of migrated.conflicts) {
      log.warn('two devices share a key that must be unique; the older keeps it', { ...c });
    }
    const devices = new DeviceInventory(backend);
    // One audit log over the cluster's storage; every service records through it (remote ones over the API).
    // It also counts logins and device authentications (gatehouse_logins_total, ...) as they are stored.
    const audit = new MeteredAuditLog(backend, ops.auditMetrics);
    const preference = preferenceFor(cfg, backend, log);
    await preference.start();
    closers.push(async () => preference.close());
    const ekpubRisk = ekpubRiskWarning(preference.current().spec.device_trust);
    if (ekpubRisk) log.warn(`WARNING: ${ekpubRisk}`, {});
    // Auth's own view of the locks, for the API calls and certificate issuance it decides.
    const locks = new LockWatcher({
      store: lockStore(backend),
      log: log.child('locks'),
      lockingMode: () => preference.current().spec.locking_mode,
    });
    await locks.start();
    closers.push(async () => locks.close());
    const clusterDeviceTrustMode = () => preference.current().spec.device_trust.mode;
    const access = new AccessChecker(users, roles, log.child('authz'), { clusterDeviceTrustMode, locks, audit });
    const cas = await loadOrCreateAuthorities(backend, clusterName, log.child('auth'));
    const auth = new AuthServer(
      backend,
      cas,
      {
        clusterName,
        secondFactor: cfg.auth.second_factor,
        certTtlMs: parseDurationMs(cfg.auth.cert_ttl),
        lockout: { maxAttempts: cfg.auth.lockout.max_attempts, durationMs: parseDurationMs(cfg.auth.lockout.duration) },
      },
      access,
      log.child('auth'),
      preference,
      audit,
    );
    const lockService = new LockService({
      store: lockStore(backend),
      devices,
      clusterDeviceTrustMode,
      log: log.child('locks'),
      audit,
    });
    const admin = new ResourceAdmin(
      createDefaultRegistry(),
      {
        role: roles as never,
        user: users as never,
        device: devices.store as never,
        cluster_auth_preference: preference.store as never,
        lock: lockService.store as never,
        db: auth.databases.store as never,
        app: auth.apps.store as never,
      },
      access,
      log.child('auth'),
      {
        user: { afterDelete: (name) => auth.deleteCredentials(name) },
        device: devices.resourceHooks(),
        cluster_auth_preference: preference.resourceHooks(),
        lock: lockService.resourceHooks(),
      },
      audit,
    );
    const api = authApiHandler({
      cfg,
      backend,
      auth,
      cas,
      admin,
      devices,
      audit,
      preference,
      users,
      roles,
      lockService,
      access,
      databasesPrefix: auth.databases.store.prefix,
      appsPrefix: auth.apps.store.prefix,
      log,
    });
    const listener = await startListener(cfg, auth, api.handler, log);
    closers.push(() => listener.close());
    await registerAuthOps(ops, { cfg, backend, locks, address: listener.address, log }, closers);
    return {
      clusterName,
      backend,
      auth,
      cas,
      apiAddress: listener.address,
      tlsHostCaPems: [cas.tlsHost.material.certPem],
      internalJoinToken: (role) => internalToken(api.tokens, role),
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

/** What the readiness probe reads: written at the first start, so a reachable backend always has it. */
const BACKEND_PROBE_KEY = '/cluster/name';

/** readyz checks for auth (backend answers, lock view loaded) and its presence heartbeat. */
async function registerAuthOps(
  ops: ProcessOps,
  deps: { cfg: DaemonConfig; backend: Backend; locks: LockWatcher; address: string; log: Logger },
  closers: (() => Promise<void>)[],
): Promise<void> {
  const backendAnswers = async () => {
    if (!(await deps.backend.get(BACKEND_PROBE_KEY))) throw new Error('backend answered without the cluster name');
  };
  const cachesWarm = () => {
    if (!deps.locks.healthy) throw new Error('the lock view is not loaded or its watch is broken');
  };
  ops.health.addReadiness('auth_backend', backendAnswers);
  ops.health.addReadiness('auth_caches', cachesWarm);
  const presence = new AuthPresence({
    backend: deps.backend,
    dataDir: deps.cfg.data_dir,
    address: deps.address,
    version: VERSION,
    startedAt: ops.startedAt,
    ready: async () => (await ops.health.readiness((name) => name.startsWith('auth_'))).status === 'ok',
    log: deps.log.child('auth'),
  });
  await presence.start();
  closers.push(() => presence.close());
}

async function internalToken(tokens: JoinTokenStore, role: JoinableRole): Promise<string> {
  const { token } = await tokens.create({ roles: [role], ttlMs: INTERNAL_TOKEN_TTL_MS, createdBy: 'gatehouse' });
  return token;
}

async function startListener(
  cfg: DaemonConfig,
  auth: AuthServer,
  handler: ConstructorParameters<typeof ApiListener>[0]['handler'],
  log: Logger,
): Promise<{ address: string; close(): Promise<void> }> {
  const listen = cfg.auth.listen_addr ?? INTERNAL_AUTH_LISTEN;
  const [host, port] = splitHostPort(listen);
  const isIp = (h: string) => /^[\d.]+$|:/.test(h);
  const names = [...new Set(['localhost', hostname(), host])];
  const identity = await auth.issueServerIdentity(
    'gatehouse-auth',
    names.filter((n) => !isIp(n)),
    [...new Set(['127.0.0.1', ...names.filter(isIp).filter((n) => n !== '0.0.0.0')])],
  );
  const listener = new ApiListener({
    listenHost: host,
    listenPort: Number(port),
    tls: { certPem: identity.certPem, keyPem: identity.keyPem, chainPem: [auth.cas.tlsHost.material.certPem] },
    clientCaPems: [auth.cas.tlsUser.material.certPem, auth.cas.tlsHost.material.certPem],
    handler,
    limits: {
      handshakeTimeoutMs: parseDurationMs(cfg.proxy.handshake_timeout),
      idleTimeoutMs: parseDurationMs(cfg.proxy.idle_timeout),
      maxConnectionsPerSource: cfg.proxy.max_connections_per_ip,
    },
    logger: log.child('auth-api'),
  });
  const addr = await listener.start();
  return { address: `${addr.host}:${addr.port}`, close: () => listener.close() };
}
