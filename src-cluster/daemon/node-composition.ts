// The node service's composition: it joins auth (service-join.ts) and gets its SSH host
// certificate that way, then decides every login locally from its watched cache with the one
// authorizer, so live sessions and new logins do not depend on auth being up at that moment.
import { hostname } from 'node:os';
import type { Logger } from '../log/logger.ts';
import { NodeSshServer } from '../node/index.ts';
import { splitHostPort } from '../../src-shared/host-port.ts';
import { ServiceRuntime } from '../service/service-runtime.ts';
import { localDecisions } from './local-decisions.ts';
import { parseAuthorizedKey } from '../../src-shared/sshcert/index.ts';
import { parseDurationMs, type DaemonConfig } from './config.ts';
import type { RunningService } from './proxy-composition.ts';
import type { InProcessNodes } from './in-process-nodes.ts';
import type { JoinTarget } from './service-join.ts';
import { VERSION } from './version.ts';
import { registerServiceReadiness, type ProcessOps } from '../ops/process-ops.ts';

const isIp = (h: string) => /^[\d.]+$|:/.test(h);

/** The wire blob of an OpenSSH certificate line ("type base64 comment"). */
function certificateBlob(line: string): Buffer | undefined {
  const b64 = line.trim().split(/\s+/)[1];
  return b64 ? Buffer.from(b64, 'base64') : undefined;
}

export async function startNodeService(
  cfg: DaemonConfig,
  log: Logger,
  target: JoinTarget,
  ops: ProcessOps,
  inProcess?: InProcessNodes,
): Promise<RunningService> {
  const nodeLog = log.child('node');
  const [nodeHost, nodePort] = splitHostPort(cfg.node.listen_addr);
  const names = [...new Set([cfg.node.name, hostname(), nodeHost])];
  const runtime = await ServiceRuntime.start({
    role: 'node',
    name: cfg.node.name,
    dataDir: cfg.data_dir,
    ...target,
    dnsNames: names.filter((n) => !isIp(n)),
    ips: names.filter(isIp).filter((n) => n !== '0.0.0.0'),
    version: VERSION,
    log: nodeLog,
    startedAt: ops.startedAt,
  });
  const { cache } = runtime;
  const { locks, access } = localDecisions(runtime, nodeLog);
  try {
    await locks.start();
    registerServiceReadiness(ops, 'node', runtime, locks);
    const deviceTrustMode = () => cache.preference().spec.device_trust.mode;
    const hostCertificate = certificateBlob(runtime.identity.ssh_host_cert);
    const node = new NodeSshServer({
      name: cfg.node.name,
      labels: cfg.node.labels,
      listenHost: nodeHost,
      listenPort: Number(nodePort),
      hostKey: runtime.identity.ssh_key,
      ...(hostCertificate ? { hostCertificate } : {}),
      // Read per authentication from the cache, so a CA change reaches the node without a restart.
      trustedUserCAs: () => cache.cas().sshUserCaKeys.map((line) => parseAuthorizedKey(line)),
      authorizer: { authorize: (req) => access.authorizeSsh(req.cert, req.login, req.node) },
      locks,
      logger: nodeLog,
      // Counted on the way (gatehouse_active_sessions{kind="ssh"}).
      audit: ops.auditMetrics.wrap(runtime.audit),
      deviceTrustMode,
      loginGraceMs: parseDurationMs(cfg.node.login_grace_time),
      maxConnectionsPerSource: cfg.node.max_connections_per_ip,
      acceptEnv: cfg.ssh_service.accept_env,
      sshAlgorithms: {
        ...(cfg.ssh.kex_algorithms ? { kexAlgorithms: cfg.ssh.kex_algorithms } : {}),
        ...(cfg.ssh.ciphers ? { ciphers: cfg.ssh.ciphers } : {}),
        ...(cfg.ssh.macs ? { macs: cfg.ssh.macs } : {}),
        fips: cfg.ssh.fips,
      },
    });
    const addr = await node.start();
    // Host certificates live a day: a renewed one must reach new connections before the old expires.
    runtime.onRenewed((next) => node.replaceHostKey(next.ssh_key, certificateBlob(next.ssh_host_cert)));
    const address = `${addr.host}:${addr.port}`;
    // Before the heartbeat: the proxy of this process may route here as soon as the node is listed.
    const mine = { address, node };
    inProcess?.set(cfg.node.name, mine);
    await runtime.startHeartbeat({ address, labels: cfg.node.labels });
    nodeLog.info('node registered', { name: cfg.node.name, address });
    return {
      address,
      runtime,
      close: async (message) => {
        if (inProcess?.get(cfg.node.name) === mine) inProcess.delete(cfg.node.name);
        await node.close(message ?? 'the node is shutting down');
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
