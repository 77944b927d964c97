// Composition root of `gatehouse start`: builds storage, auth, proxy and node from the config
// and wires them together. The one place that knows how the services fit; they only know
// the interfaces they are handed.
import { createPresetRoles, identityStores } from '../auth/identity-stores.ts';
import { mkdirSync, writeFileSync, readFileSync, existsSync, chmodSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { SqliteBackend } from '../storage/sqlite.ts';
import type { Backend } from '../storage/backend.ts';
import { createDefaultRegistry } from '../resources/index.ts';
import { loadOrCreateAuthorities } from '../auth/authorities.ts';
import { AuthServer } from '../auth/auth-server.ts';
import { AccessChecker } from '../authz/access.ts';
import { ResourceAdmin } from '../api/resource-admin.ts';
import { DeviceInventory } from '../devicetrust/inventory.ts';
import { registerAuthService } from '../api/auth-service.ts';
import { registerDeviceTrustService } from '../api/devicetrust-service.ts';
import { registerClusterRoutes } from '../api/cluster-routes.ts';
import { ekpubRiskWarning } from '../devicetrust/attestation-policy.ts';
import { loadEkCertAllowedCas } from '../devicetrust/ek-cas.ts';
import { ClusterAuthPreferenceService } from '../auth/cluster-auth-preference.ts';
import { loginDeviceTrust } from '../auth/login-device-trust.ts';
import { peerContext } from '../api/peer.ts';
import { createGuardedApiHandler } from '../limits/api-guard.ts';
import { ProxyServer, splitHostPort } from '../proxy/proxy.ts';
import { NodeSshServer } from '../node/index.ts';
import { openSSHToPrivateKey, privateKeyToOpenSSH } from '../../src-shared/sshcert/index.ts';
import { BUILTIN_ADMIN_USER } from '../../src-shared/cert-fields.ts';
import type { Logger } from '../log/logger.ts';
import { parseDurationMs, type DaemonConfig } from './config.ts';
import { writeAdminIdentity } from './admin-identity.ts';
import { LockWatcher } from '../locks/lock-watcher.ts';
import { LockService, lockStore } from '../locks/lock-service.ts';
import { AuditLog } from '../audit/audit-log.ts';

export const VERSION = '0.1.0';
const HEARTBEAT_MS = 10_000;

export interface RunningDaemon {
  clusterName: string;
  proxyAddress?: string;
  nodeAddress?: string;
  adminIdentityPath?: string;
  backend: Backend;
  close(message?: string): Promise<void>;
}

async function clusterNameOf(backend: Backend, wanted: string): Promise<string> {
  const item = await backend.get('/cluster/name');
  if (item) return item.value;
  await backend.create({ key: '/cluster/name', value: wanted }).catch(() => undefined);
  return (await backend.get('/cluster/name'))?.value ?? wanted;
}

function loadOrCreateHostKey(dir: string): string {
  const path = join(dir, 'host_key');
  if (existsSync(path)) return readFileSync(path, 'utf8');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const text = privateKeyToOpenSSH(generateKeyPairSync('ed25519').privateKey, 'gatehouse-node');
  writeFileSync(path + '.tmp', text, { mode: 0o600 });
  renameSync(path + '.tmp', path);
  return text;
}

export async function startDaemon(cfg: DaemonConfig, log: Logger): Promise<RunningDaemon> {
  mkdirSync(cfg.data_dir, { recursive: true, mode: 0o700 });
  chmodSync(cfg.data_dir, 0o700);
  const backend = await SqliteBackend.open({
    path: cfg.storage.path ?? join(cfg.data_dir, 'gatehouse.db'),
    onBackgroundError: (e) => log.child('storage').error('storage background task failed', { error: e.message }),
  });
  const closers: (() => Promise<void>)[] = [() => backend.close()];
  const close = async (message?: string) => {
    for (const c of closers.reverse())
      await c().catch((e: Error) => log.error('shutdown step failed', { error: e.message }));
    void message;
  };
  try {
    const clusterName = await clusterNameOf(backend, cfg.cluster_name);
    const registry = createDefaultRegistry();
    const { roles, users } = identityStores(backend);
    await createPresetRoles(roles, (role) => log.info('created preset role', { role }));
    const devices = new DeviceInventory(backend);
    // One audit log over the cluster's storage; every service below records through it.
    const audit = new AuditLog(backend);
    // The config's auth settings seed the cluster auth preference; from then on the stored
    // preference is what applies (see src-cluster/auth/cluster-auth-preference.ts).
    const preference = new ClusterAuthPreferenceService({
      backend,
      config: {
        secondFactor: cfg.auth.second_factor,
        ekCertAllowedCas: loadEkCertAllowedCas(cfg.auth.device_trust.ekcert_allowed_cas),
        ekpubAllowed: cfg.auth.device_trust.ekpub_allowed,
      },
      log: log.child('auth'),
    });
    await preference.start();
    closers.push(async () => preference.close());
    const ekpubRisk = ekpubRiskWarning(preference.current().spec.device_trust);
    if (ekpubRisk) log.warn(`WARNING: ${ekpubRisk}`, {});
    // Every service in this process answers lock checks from this one view of the locks.
    const locks = new LockWatcher({
      store: lockStore(backend),
      log: log.child('locks'),
      lockingMode: () => preference.current().spec.locking_mode,
    });
    await locks.start();
    closers.push(async () => locks.close());
    const access = new AccessChecker(users, roles, log.child('authz'), {
      clusterDeviceTrustMode: () => preference.current().spec.device_trust.mode,
      locks,
      audit,
    });
    const running: RunningDaemon = { clusterName, backend, close: (m) => close(m) };
    if (!cfg.auth.enabled) return running;

    const cas = await loadOrCreateAuthorities(backend, clusterName, log.child('auth'));
    const auth = new AuthServer(
      backend,
      cas,
      {
        clusterName,
        secondFactor: cfg.auth.second_factor,
        certTtlMs: parseDurationMs(cfg.auth.cert_ttl),
        lockout: {
          maxAttempts: cfg.auth.lockout.max_attempts,
          durationMs: parseDurationMs(cfg.auth.lockout.duration),
        },
      },
      access,
      log.child('auth'),
      preference,
      audit,
    );
    const lockService = new LockService({
      store: lockStore(backend),
      devices,
      clusterDeviceTrustMode: () => preference.current().spec.device_trust.mode,
      log: log.child('locks'),
      audit,
    });
    const admin = new ResourceAdmin(
      registry,
      {
        role: roles as never,
        user: users as never,
        device: devices.store as never,
        cluster_auth_preference: preference.store as never,
        lock: lockService.store as never,
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

    if (cfg.proxy.enabled) {
      const [host] = splitHostPort(cfg.proxy.listen_addr);
      const publicAddr = cfg.proxy.public_addr ?? cfg.proxy.listen_addr;
      const [publicHost] = splitHostPort(publicAddr);
      const isIp = (h: string) => /^[\d.]+$|:/.test(h);
      const names = [...new Set(['localhost', hostname(), host, publicHost])];
      const identity = await auth.issueServerIdentity(
        'gatehouse-proxy',
        names.filter((n) => !isIp(n)),
        [...new Set(['127.0.0.1', ...names.filter(isIp)])],
      );
      // User certificates come from the user CA, joined services' from the host CA (api/peer.ts).
      const tlsCas = {
        userCaPems: () => [cas.tlsUser.material.certPem],
        hostCaPems: () => [cas.tlsHost.material.certPem],
      };
      const authRoutes = registerAuthService({
        auth,
        resources: admin,
        devices,
        version: VERSION,
        proxyPublicAddr: publicAddr,
        log: log.child('api'),
        audit,
        auditLog: audit,
        preference: () => preference.current(),
        deviceTrustFor: (user, roleNames) =>
          loginDeviceTrust(
            { clusterMode: () => preference.current().spec.device_trust.mode, users, roles },
            user,
            roleNames,
          ),
      });
      const clusterRoutes = registerClusterRoutes({
        backend,
        auth,
        audit,
        log: log.child('join'),
        watchPrefixes: {
          role: roles.prefix,
          user: users.prefix,
          lock: lockService.store.prefix,
          cluster_auth_preference: preference.store.prefix,
          node: auth.nodes.prefix,
        },
      });
      const deviceTrustRoutes = registerDeviceTrustService({
        inventory: devices,
        cas,
        ekCertAllowedCas: () => preference.ekCertAllowedCas(),
        ekpubAllowed: () => preference.ekpubAllowed(),
        clusterDeviceTrustMode: () => preference.current().spec.device_trust.mode,
        requireNoLock: (targets, context) => access.requireNoLock(targets, context),
        log: log.child('devicetrust'),
        audit,
      });
      // Body and field limits on every call: see src-cluster/limits/.
      const apiHandler = createGuardedApiHandler({
        routes: (router) => {
          authRoutes(router);
          deviceTrustRoutes(router);
          clusterRoutes.routes(router);
        },
        contextValues: (req) => peerContext(req, tlsCas),
        logger: log.child('api'),
      });
      const proxy = new ProxyServer({
        listenHost: host,
        listenPort: Number(splitHostPort(cfg.proxy.listen_addr)[1]),
        tls: { certPem: identity.certPem, keyPem: identity.keyPem, chainPem: [cas.tlsHost.material.certPem] },
        userCaPems: tlsCas.userCaPems,
        hostCaPems: tlsCas.hostCaPems,
        apiHandler: apiHandler as never,
        backends: {
          findNode: async (id, name) => {
            const node = await auth.nodes.find(name).catch(() => undefined);
            if (!node) return undefined;
            const ua = await access.forIdentity({ user: id.user, roles: id.roles });
            if (!ua.roleSet.canSeeNode({ name, labels: node.spec.labels })) return undefined;
            return { name, address: node.spec.address };
          },
        },
        logger: log.child('proxy'),
        limits: {
          handshakeTimeoutMs: parseDurationMs(cfg.proxy.handshake_timeout),
          idleTimeoutMs: parseDurationMs(cfg.proxy.idle_timeout),
          maxConnectionsPerSource: cfg.proxy.max_connections_per_ip,
        },
      });
      const addr = await proxy.start();
      running.proxyAddress = `${addr.host}:${addr.port}`;
      closers.push(() => proxy.close());
      running.adminIdentityPath = await writeAdminIdentity(
        cfg.data_dir,
        auth,
        running.proxyAddress,
        BUILTIN_ADMIN_USER,
        backend,
      );
    }

    if (cfg.node.enabled) {
      const nodeLog = log.child('node');
      const hostKey = loadOrCreateHostKey(join(cfg.data_dir, 'node'));
      const [nodeHost, nodePort] = splitHostPort(cfg.node.listen_addr);
      const hostCert = auth.signHostCert(createPublicKey(openSSHToPrivateKey(hostKey)), [
        cfg.node.name,
        hostname(),
        nodeHost,
      ]);
      const node = new NodeSshServer({
        name: cfg.node.name,
        labels: cfg.node.labels,
        listenHost: nodeHost,
        listenPort: Number(nodePort),
        hostKey,
        hostCertificate: hostCert,
        trustedUserCAs: () => [cas.sshUser.publicBlob],
        authorizer: { authorize: (req) => access.authorizeSsh(req.cert, req.login, req.node) },
        locks,
        logger: nodeLog,
        audit,
        deviceTrustMode: () => preference.current().spec.device_trust.mode,
        loginGraceMs: parseDurationMs(cfg.node.login_grace_time),
        maxConnectionsPerSource: cfg.node.max_connections_per_ip,
      });
      const addr = await node.start();
      running.nodeAddress = `${addr.host}:${addr.port}`;
      const spec = { address: running.nodeAddress, hostname: hostname(), labels: cfg.node.labels };
      const beat = () =>
        auth
          .heartbeatNode(cfg.node.name, spec)
          .catch((e: Error) => nodeLog.warn('heartbeat failed', { error: e.message }));
      await beat();
      const timer = setInterval(() => void beat(), HEARTBEAT_MS);
      timer.unref();
      closers.push(async () => {
        clearInterval(timer);
        await node.close('the node is shutting down');
        await auth.removeNode(cfg.node.name);
      });
      nodeLog.info('node registered', { name: cfg.node.name, address: running.nodeAddress });
    }
    return running;
  } catch (e) {
    await close();
    throw e;
  }
}
