// `node --import tsx src-main/host/main.ts [--home DIR] [--port N]`: the desktop app's main
// services behind the browser host. Prints the URL to open (with the per-launch token) on stdout;
// logs go to stderr. `--add-cluster` pre-adds a cluster (what `npm start` does with the demo).
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { exitCodeFor, isGatehouseError } from '../../src-shared/errors.ts';
import { composeServices } from '../app/compose.ts';
import { defaultAppHome } from '../app/home.ts';
import { consoleLogger } from '../app/logger.ts';
import { createIpcDispatcher } from '../ipc/dispatcher.ts';
import { startBrowserHost } from './browser-host.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

const USAGE = `Usage: node --import tsx src-main/host/main.ts [options]

Runs the Gatehouse desktop app's main process in plain Node and serves the app to a browser on
this machine (127.0.0.1 only). Open the printed URL; it carries a token that is new every launch.

Options:
  --home DIR            app data (logins, pins, clusters); default $GATEHOUSE_HOME, else the
                        Electron app's data directory (~/.config/Gatehouse on Linux)
  --port N              port on 127.0.0.1 (default $GATEHOUSE_HOST_PORT, else a free one)
  --renderer-dir DIR    built renderer (default dist/renderer)
  --add-cluster ADDR    add this cluster (proxy address) before serving
  --ca-pin SHA256:HEX   with --add-cluster: trust only this CA (re-pins when the cluster was reset)
  --add-only            add the cluster and exit, without serving
  --debug               verbose logs
`;

function parsePort(text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) throw new Error(`"${text}" is not a port number`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      home: { type: 'string' },
      port: { type: 'string' },
      'renderer-dir': { type: 'string' },
      'add-cluster': { type: 'string' },
      'ca-pin': { type: 'string' },
      'add-only': { type: 'boolean' },
      debug: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const log = consoleLogger(values.debug ? 'debug' : 'info');
  const home = values.home ? resolve(values.home) : defaultAppHome();
  const services = composeServices({ home, logger: log, host: 'browser' });
  const stopServices = () => services.close().catch((e: Error) => log.error('shutdown failed', { error: e.message }));

  try {
    if (values['add-cluster']) {
      const c = await services.clusters.add(values['add-cluster'], values['ca-pin'] ? { caPin: values['ca-pin'] } : {});
      log.info('cluster ready', { proxy: c.proxy, cluster: c.clusterName, ca: c.caFingerprint });
      if (values['add-only']) {
        await stopServices();
        return;
      }
    }
    const host = await startBrowserHost({
      dispatcher: createIpcDispatcher(services),
      rendererDir: resolve(values['renderer-dir'] ?? resolve(ROOT, 'dist/renderer')),
      port: parsePort(values.port ?? process.env.GATEHOUSE_HOST_PORT),
      logger: log,
    });
    process.stdout.write(`Gatehouse app: ${host.url}\n`);

    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info('shutting down', { signal });
      void host
        .close()
        .then(stopServices)
        .then(() => process.exit(0));
      setTimeout(() => process.exit(1), 10_000).unref();
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  } catch (e) {
    await stopServices();
    throw e;
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`ERROR: ${(e as Error).message}\n`);
  process.exit(isGatehouseError(e) ? exitCodeFor(e.code) : 1);
});
