// `gatehouse start` and `gatehouse demo`: their options and help. What they run is in
// start-cluster.ts, imported when one of them runs (the daemon's modules cost most of a second
// to load, which `gatehouse --version` and `--help` must not pay).
import type { Command } from 'commander';
import { onAction } from '../../src-shared/cli/program.ts';
import type { StartOptions } from './start-cluster.ts';

async function startCluster(values: StartOptions, demo: boolean): Promise<void> {
  const { startCluster: run } = await import('./start-cluster.ts');
  return run(values, demo);
}
/** The options `start` and `demo` share. */
function addStartOptions(cmd: Command): Command {
  return cmd
    .option('--config <FILE>', 'YAML configuration (default: embedded defaults)')
    .option(
      '--data-dir <DIR>',
      'data directory (default: $GATEHOUSE_DATA_DIR, /var/lib/gatehouse as root, ~/.local/share/gatehouse otherwise)',
    )
    .option(
      '--roles <LIST>',
      'services to run here (auth, proxy, node, db, app), e.g. auth or proxy,node,app (default: those the config enables)',
    )
    .option(
      '--auth-server <HOST:PORT>',
      "auth's API when auth does not run here; repeat or comma-separate for several (config: auth_servers)",
      (value: string, previous: string | undefined) => (previous ? `${previous},${value}` : value),
    )
    .option(
      '--token <TOKEN>',
      'join token for the first start of a proxy or node ("gatectl tokens add"); also $GATEHOUSE_JOIN_TOKEN ' +
        "or the config's join_token / join_token_file",
    )
    .option('--ca-pin <SHA256:HEX>', "auth's CA fingerprint (gatectl status), checked before the token is sent")
    .option(
      '--diag-addr <HOST:PORT>',
      'serve GET /healthz, /readyz and /metrics (Prometheus) here, e.g. 127.0.0.1:3000 (config: diagnostics.listen_addr)',
    )
    .option('--debug', 'verbose logs');
}

export function registerStartCommands(program: Command): void {
  const start = program
    .command('start')
    .summary("run the cluster services (auth, proxy, node; all of the config's by default)")
    .description('Runs the cluster services of the configuration in this process until SIGTERM or SIGINT.');
  addStartOptions(start);
  onAction(start, (cmd) => startCluster(cmd.opts<StartOptions>(), false));

  const demo = program
    .command('demo')
    .summary('run an embedded demo cluster with a demo user (what "npm start" runs)')
    .description(
      'Runs an embedded cluster in a demo data dir ($GATEHOUSE_DEMO_DIR, default .data/demo) with a demo\n' +
        'user who may log in as the current OS user on the local node, and prints how to try it.',
    );
  addStartOptions(demo).option(
    '--json-status <FILE>',
    'once running, write the proxy address, the demo user\'s credentials and the proxy\'s CA fingerprint to FILE as JSON (0600), for launchers like "npm start"',
  );
  onAction(demo, (cmd) => startCluster(cmd.opts<StartOptions>(), true));
}
