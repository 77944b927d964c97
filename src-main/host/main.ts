// `node --import tsx src-main/host/main.ts [--home DIR] [--port N]`: the desktop app's main
// services behind the browser host. Prints the URL to open (with the per-launch token) on stdout;
// logs go to stderr. `--add-cluster` pre-adds a cluster (what `npm start` does with the demo).
//
// Launch order (issue 16): the server listens and the URL is printed first. The first screen's
// calls (clusters.list, gateways.list, app.info) are answered from the stored files
// (early-answers.ts); the main services (client core, gateways, terminals: most of the app's
// modules) are composed once that screen was listed, or on the first call that needs them (the
// deferred dispatcher holds it till then). A cluster that is already added is shown at once and
// refreshed behind; a new one is listed at once as 'connecting' and filled in when its add ends.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { exitCodeFor, isGatehouseError } from '../../src-shared/errors.ts';
import { defaultAppHome } from '../app/home.ts';
import { consoleLogger, type AppLogger } from '../app/logger.ts';
import { deferredDispatcher, type EarlyAnswers } from '../ipc/deferred-dispatcher.ts';
import { startBrowserHost } from './browser-host.ts';
import type { ClusterSummary } from '../ipc/contract.ts';
import type { LaunchAddRow } from './launch-add-row.ts';
import type { LaunchServices } from './launch-services.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
/** After the first screen's clusters.list: long enough for the page to paint it on a small machine. */
const COMPOSE_AFTER_FIRST_LIST_MS = 300;
/** Composed by then even when no page asked for anything (the known cluster's refresh runs after it). */
const COMPOSE_AT_THE_LATEST_MS = 2_000;

const USAGE = `Usage: node --import tsx src-main/host/main.ts [options]

Runs the Gatehouse desktop app's main process in plain Node and serves the app to a browser on
this machine (127.0.0.1 only). Open the printed URL; it carries a token that is new every launch.

Options:
  --home DIR            app data (logins, pins, clusters); default $GATEHOUSE_HOME, else the
                        Electron app's data directory (~/.config/Gatehouse on Linux)
  --port N              port on 127.0.0.1 (default $GATEHOUSE_HOST_PORT, else a free one)
  --renderer-dir DIR    built renderer (default dist/renderer)
  --add-cluster ADDR    add this cluster (proxy address; a cluster's several proxies as A,B)
                        before serving
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
  const addCluster = values['add-cluster']
    ? { proxy: values['add-cluster'], ...(values['ca-pin'] ? { caPin: values['ca-pin'] } : {}) }
    : undefined;
  const compose = async (opts: { deferRefresh?: (fn: () => void) => void; addRow?: LaunchAddRow } = {}) =>
    (await import('./launch-services.ts')).composeLaunchServices({
      home,
      log,
      ...(addCluster ? { addCluster } : {}),
      ...opts,
    });

  if (addCluster && values['add-only']) {
    // Nothing to show: the add (a refresh when known) runs at once.
    const { services, clusterAdd } = await compose({ deferRefresh: (fn) => fn() });
    try {
      const c = await clusterAdd!.done;
      log.info('cluster ready', { proxy: c.proxy, cluster: c.clusterName, ca: c.caFingerprint });
    } finally {
      await stopServices(services, log);
    }
    return;
  }

  // Before the services exist the socket answers what the first screen asks from the stored files
  // (early-answers.ts, loaded once the URL is out); other calls wait for the composition.
  let startComposing!: () => void;
  let launched: LaunchServices | undefined;
  let addRow: LaunchAddRow | undefined;
  let firstScreenList: (() => ClusterSummary[] | undefined) | undefined;
  const composeNow = new Promise<void>((r) => (startComposing = r));
  const composed = composeNow.then(() => compose(addRow ? { addRow } : {})).then((l) => (launched = l));
  let printedUrl!: () => void;
  const urlPrinted = new Promise<void>((r) => (printedUrl = r));
  const early: Promise<EarlyAnswers | undefined> = urlPrinted
    .then(() => import('./early-answers.ts'))
    .then((m) => {
      addRow = addCluster ? m.newClusterRow(home, addCluster.proxy, addCluster.caPin) : undefined;
      firstScreenList = () => m.storedClusterList({ home, ...(addRow ? { addRow } : {}) });
      // The services are composed once the first screen was listed (or on the first call that
      // needs them): loading them blocks this event loop, which also serves the page, so earlier
      // they would delay its commit and first paint. A new cluster's add needs them (the cluster
      // client) and the network, so it starts right after that list, not a paint later.
      setTimeout(startComposing, COMPOSE_AT_THE_LATEST_MS).unref();
      const afterList = addRow ? 0 : COMPOSE_AFTER_FIRST_LIST_MS;
      return m.launchEarlyAnswers({
        home,
        ...(addRow ? { addRow } : {}),
        onListed: () => void setTimeout(startComposing, afterList),
      });
    })
    .catch((e: unknown) => {
      // Without early answers every call waits for the services: slower, still correct.
      log.warn('early answers unavailable', { error: (e as Error).message });
      startComposing();
      return undefined;
    });

  const rendererDir = resolve(values['renderer-dir'] ?? resolve(ROOT, 'dist/renderer'));
  const host = await startBrowserHost({
    dispatcher: deferredDispatcher(
      composed.then((l) => l.dispatcher),
      log,
      {
        early: { answer: async (channel, input) => (await early)?.answer(channel, input) },
        onWait: () => startComposing(),
      },
    ),
    rendererDir,
    port: parsePort(values.port ?? process.env.GATEHOUSE_HOST_PORT),
    logger: log,
    // The first screen pre-rendered into the page (launch-shell.ts): the field is typable before
    // the bundle ran. The early answers module reads the same stored list clusters.list gets.
    indexPage: async () => {
      const list = (await early) ? firstScreenList?.() : undefined;
      return list ? (await import('./launch-shell.ts')).launchShellPage(rendererDir, list) : undefined;
    },
  });
  process.stdout.write(`Gatehouse app: ${host.url}\n`);
  printedUrl();

  let stopping = false;
  const stop = (signal: string, code = 0) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal });
    void host
      .close()
      .then(() => (launched ? stopServices(launched.services, log) : undefined))
      .then(() => process.exit(code));
    setTimeout(() => process.exit(1), 10_000).unref();
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const { clusterAdd } = await composed;
  clusterAdd?.done.then(
    (c) => log.info('cluster ready', { proxy: c.proxy, cluster: c.clusterName, ca: c.caFingerprint }),
    (e: unknown) => {
      if (clusterAdd.known || addRow) {
        // Known: its stored entry and pin still serve the window; logging in says what is wrong.
        // New: the window shows the placeholder row with this error and its next step.
        log.warn('could not add or refresh the cluster', { proxy: addCluster!.proxy, error: (e as Error).message });
        return;
      }
      // Nothing could show the failure: a cluster that cannot be added (wrong pin, unreachable) ends the launch.
      process.stderr.write(`ERROR: ${(e as Error).message}\n`);
      stop('cluster add failed', isGatehouseError(e) ? exitCodeFor(e.code) : 1);
    },
  );
}

function stopServices(services: LaunchServices['services'], log: AppLogger): Promise<void> {
  return services.close().catch((e: Error) => log.error('shutdown failed', { error: e.message }));
}

main().catch((e: unknown) => {
  process.stderr.write(`ERROR: ${(e as Error).message}\n`);
  process.exit(isGatehouseError(e) ? exitCodeFor(e.code) : 1);
});
