// `gatehouse start`: runs the cluster services of the config in this process.
import { parseArgs } from 'node:util';
import { createLogger } from '../log/logger.ts';
import { loadConfig } from '../daemon/config.ts';
import { startDaemon, VERSION } from '../daemon/daemon.ts';
import { exitCodeFor, isGatehouseError } from '../../src-shared/errors.ts';
import { demoDataDir, seedDemo, tlsHostCaFingerprint, writeDemoStatus } from './demo.ts';
import { userInfo } from 'node:os';

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  start     run the cluster services (auth, proxy, node; all of the config's by default)
  demo      run an embedded demo cluster with a demo user (what "npm start" runs)
  version   print the version

Options for start:
  --config FILE     YAML configuration (default: embedded defaults)
  --data-dir DIR    data directory (default: $GATEHOUSE_DATA_DIR, /var/lib/gatehouse as root,
                    ~/.local/share/gatehouse otherwise)
  --roles LIST      services to run here, e.g. auth or proxy,node (default: those the config enables)
  --auth-server HOST:PORT
                    auth's API when auth does not run here (config: auth_server)
  --token TOKEN     join token for the first start of a proxy or node ("gatectl tokens add");
                    also $GATEHOUSE_JOIN_TOKEN or the config's join_token / join_token_file
  --ca-pin SHA256:HEX
                    auth's CA fingerprint (gatectl status), checked before the token is sent
  --debug           verbose logs

Options for demo (besides those of start):
  --json-status FILE  once running, write the proxy address, the demo user's credentials and the
                      proxy's CA fingerprint to FILE as JSON (0600), for launchers like "npm start"
`;

async function start(argv: string[], demo = false): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'data-dir': { type: 'string' },
      roles: { type: 'string' },
      'auth-server': { type: 'string' },
      token: { type: 'string' },
      'ca-pin': { type: 'string' },
      debug: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      ...(demo ? { 'json-status': { type: 'string' as const } } : {}),
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const cfg = loadConfig(values.config, {
    dataDir: values['data-dir'] ?? (demo ? demoDataDir() : undefined),
    roles: values.roles,
    authServer: values['auth-server'],
    token: values.token,
    caPin: values['ca-pin'],
  });
  if (demo && !values.config) cfg.cluster_name = 'demo';
  const log = createLogger({ level: values.debug ? 'debug' : cfg.log.level, format: cfg.log.format });
  log.info('starting gatehouse', { version: VERSION, data_dir: cfg.data_dir });
  const daemon = await startDaemon(cfg, log);
  log.info('gatehouse is running', {
    cluster: daemon.clusterName,
    auth: daemon.authAddress,
    proxy: daemon.proxyAddress,
    node: daemon.nodeAddress,
    admin_identity: daemon.adminIdentityPath,
  });
  if (demo && daemon.proxyAddress) {
    const { user, password } = await seedDemo(daemon, cfg.data_dir, log);
    const statusFile = (values as { 'json-status'?: string })['json-status'];
    if (statusFile) {
      writeDemoStatus(statusFile, {
        clusterName: daemon.clusterName,
        proxy: daemon.proxyAddress,
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
        `  proxy:     ${daemon.proxyAddress}`,
        `  node:      ${cfg.node.name} (${daemon.nodeAddress})`,
        `  user:      ${user}`,
        `  password:  ${password}`,
        '',
        'Try it from another terminal:',
        `  ${gate} login --proxy ${daemon.proxyAddress} --user ${user}`,
        `  ${gate} ls`,
        `  ${gate} ssh ${userInfo().username}@${cfg.node.name}`,
        '',
        `Admin: GATEHOUSE_DATA_DIR=${cfg.data_dir} npm run -s gatectl -- status`,
        'Press Ctrl+C to stop.',
        '',
      ].join('\n'),
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    daemon.close('the cluster is shutting down').then(
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

async function main(): Promise<void> {
  const [cmd, ...rest] = process.argv.slice(2);
  switch (cmd) {
    case 'start':
      return start(rest);
    case 'demo':
      return start(rest, true);
    case 'version':
    case '--version':
      process.stdout.write(`gatehouse ${VERSION}\n`);
      return;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      process.stderr.write(`ERROR: unknown command "${cmd}"\n\n${USAGE}`);
      process.exitCode = 2;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`ERROR: ${(e as Error).message}\n`);
  process.exit(isGatehouseError(e) ? exitCodeFor(e.code) : 1);
});
