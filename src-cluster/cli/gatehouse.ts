// `gatehouse start`: runs the cluster services of the config in this process.
import { parseArgs } from 'node:util';
import { createLogger } from '../log/logger.ts';
import { loadConfig } from '../daemon/config.ts';
import { startDaemon, VERSION } from '../daemon/daemon.ts';
import { exitCodeFor, isGatehouseError } from '../../src-shared/errors.ts';

const USAGE = `Usage: gatehouse <command> [options]

Commands:
  start     run the cluster (auth, proxy, node; each can be disabled in the config)
  version   print the version

Options for start:
  --config FILE     YAML configuration (default: embedded defaults)
  --data-dir DIR    data directory (default: $GATEHOUSE_DATA_DIR, /var/lib/gatehouse as root,
                    ~/.local/share/gatehouse otherwise)
  --debug           verbose logs
`;

async function start(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, 'data-dir': { type: 'string' }, debug: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const cfg = loadConfig(values.config, { dataDir: values['data-dir'] });
  const log = createLogger({ level: values.debug ? 'debug' : cfg.log.level, format: cfg.log.format });
  log.info('starting gatehouse', { version: VERSION, data_dir: cfg.data_dir });
  const daemon = await startDaemon(cfg, log);
  log.info('gatehouse is running', {
    cluster: daemon.clusterName, proxy: daemon.proxyAddress, node: daemon.nodeAddress, admin_identity: daemon.adminIdentityPath,
  });
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
