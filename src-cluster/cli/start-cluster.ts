// What `gatehouse start` and `gatehouse demo` run: the cluster services of the config in this
// process (demo: an embedded cluster with a demo user, what "npm start" runs). start-command.ts
// declares the commands and imports this module only when one runs, so `gatehouse --version`
// and `--help` do not load the daemon.
import { userInfo } from 'node:os';
import { createLogger, type Logger } from '../log/logger.ts';
import { loadConfig, type DaemonConfig } from '../daemon/config.ts';
import { startDaemon, VERSION, type RunningDaemon } from '../daemon/daemon.ts';
import { demoDataDir, seedDemo, tlsHostCaFingerprint, tlsHostCaPem, writeDemoStatus } from './demo.ts';
import { DEMO_APP_LABELS, DEMO_APP_NAME, startDemoWhoamiApp, type DemoWhoamiApp } from './demo-app.ts';
import { tuneGcForStreaming } from '../../src-shared/stream-gc.ts';

export interface StartOptions {
  config?: string;
  dataDir?: string;
  /** Services to run here, e.g. "auth" or "proxy,node". */
  roles?: string;
  authServer?: string;
  token?: string;
  caPin?: string;
  diagAddr?: string;
  debug?: boolean;
  /** demo only */
  jsonStatus?: string;
}

/** Seeds the demo user, writes --json-status and prints how to try the demo cluster. */
async function announceDemo(
  daemon: RunningDaemon,
  proxy: string,
  cfg: DaemonConfig,
  log: Logger,
  statusFile: string | undefined,
): Promise<void> {
  const { user, password } = await seedDemo(daemon, cfg.data_dir, log);
  if (statusFile) {
    writeDemoStatus(statusFile, {
      clusterName: daemon.clusterName,
      proxy,
      caFingerprint: tlsHostCaFingerprint(daemon.adminIdentityPath),
      node: cfg.node.name,
      nodeAddress: daemon.nodeAddress ?? '',
      user,
      password,
      login: userInfo().username,
      dataDir: cfg.data_dir,
    });
  }
  const gate = 'npm run -s gate --';
  process.stdout.write(
    [
      '',
      'Gatehouse demo cluster is running.',
      `  proxy:     ${proxy}`,
      `  node:      ${cfg.node.name} (${daemon.nodeAddress})`,
      `  user:      ${user}`,
      `  password:  ${password}`,
      '',
      'Try it from another terminal:',
      `  ${gate} login --proxy ${proxy} --user ${user}`,
      `  ${gate} ls`,
      `  ${gate} ssh ${userInfo().username}@${cfg.node.name}`,
      '',
      `Admin: GATEHOUSE_DATA_DIR=${cfg.data_dir} npm run -s gatectl -- status`,
      'Press Ctrl+C to stop.',
      '',
    ].join('\n'),
  );
}

/** The embedded app service with the demo's sample app (its own loopback listener, as by default). */
function enableDemoApp(cfg: DaemonConfig, app: DemoWhoamiApp): void {
  cfg.app_service.enabled = true;
  cfg.app_service.apps = [
    {
      kind: 'app',
      version: 'v3',
      metadata: {
        name: DEMO_APP_NAME,
        description: 'Demo app: shows the identity Gatehouse vouches for',
        labels: { ...DEMO_APP_LABELS },
      },
      spec: { uri: app.uri },
    },
  ];
}

/** Runs the cluster until SIGTERM/SIGINT; resolves once it is up. */
export async function startCluster(values: StartOptions, demo: boolean): Promise<void> {
  // The proxy and node relay bulk data (SSH, app and db streams): see stream-gc.ts.
  tuneGcForStreaming();
  const cfg = loadConfig(values.config, {
    dataDir: values.dataDir ?? (demo ? demoDataDir() : undefined),
    roles: values.roles,
    authServer: values.authServer,
    token: values.token,
    caPin: values.caPin,
    diagAddr: values.diagAddr,
  });
  if (demo && !values.config) cfg.cluster_name = 'demo';
  const log = createLogger({ level: values.debug ? 'debug' : cfg.log.level, format: cfg.log.format });
  log.info('starting gatehouse', { version: VERSION, data_dir: cfg.data_dir });
  // The demo (no config of its own) also serves a sample web app, so the app has one to Launch.
  const demoApp = demo && !values.config ? await startDemoWhoamiApp(log) : undefined;
  if (demoApp) enableDemoApp(cfg, demoApp);
  const daemon = await startDaemon(cfg, log);
  if (demoApp && daemon.proxyAddress) {
    demoApp.trustProxy(daemon.proxyAddress, tlsHostCaPem(daemon.adminIdentityPath), daemon.clusterName);
  }
  log.info('gatehouse is running', {
    cluster: daemon.clusterName,
    auth: daemon.authAddress,
    proxy: daemon.proxyAddress,
    node: daemon.nodeAddress,
    db_service: daemon.dbServiceAddress,
    app_service: daemon.appServiceAddress,
    diagnostics: daemon.diagAddress,
    admin_identity: daemon.adminIdentityPath,
  });
  if (demo && daemon.proxyAddress) await announceDemo(daemon, daemon.proxyAddress, cfg, log, values.jsonStatus);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    daemon
      .close('the cluster is shutting down')
      .then(() => demoApp?.close())
      .then(
        () => {
          log.info('stopped');
          process.exit(0);
        },
        (e: Error) => {
          log.error('shutdown failed', { error: e.message });
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
