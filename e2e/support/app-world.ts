// The app half of the e2e world: a cluster with its app service on, a real upstream web app on
// loopback (Debian's nginx serving a static page, test-support/apps/nginx.ts), the `kind: app` resources pointing at it — a web app (HTTP) and the same server as a
// TCP app — and two roles: one that allows every app, and the seed's own example that allows
// them only from a trusted device (this test machine's app is not enrolled). Mirrors
// docs/app-access.md's setup, as an administrator would do it with gatectl.
import { NGINX_INDEX_TEXT, startNginx } from '../../test-support/apps/nginx.ts';
import { freePort, type ClusterProcess } from '../../test-support/cluster-process.ts';

/** The web app: what the list shows and what its page says (the test looks for it in the launched tab). */
export const E2E_WEB_APP = {
  name: 'dashboards',
  description: 'Team dashboards',
  labels: { env: 'e2e', team: 'blue' },
} as const;
/** The same upstream as a TCP app (Connect shows 127.0.0.1:PORT with Copy). */
export const E2E_TCP_APP = { name: 'dashboards-tcp', labels: { env: 'e2e' } } as const;
/** What the upstream's index page says: found in the launched tab, it proves the page came through. */
export const UPSTREAM_PAGE_TEXT = NGINX_INDEX_TEXT;
/** The page's <title> (test-support/apps/nginx.ts NGINX_INDEX_HTML). */
export const UPSTREAM_PAGE_TITLE = 'test app';

/** Allows every app. */
export const APP_ROLE = 'apps-e2e';
/** The seed's example role (REFERENCE.md), verbatim: apps only from a trusted device. */
export const TRUSTED_DEVICE_APPS_ROLE = 'require-trusted-device-apps';
const SEED_TRUSTED_APPS_ROLE = `kind: role
version: v7
metadata: {name: require-trusted-device-apps}
spec:
  options: {device_trust_mode: required}
  allow:
    app_labels: {'*': '*'}
`;

export interface E2eUpstream {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** The daemon's app_service section: on, its own loopback listener, apps added dynamically. */
export async function appServiceConfig(): Promise<string> {
  return ['app_service:', '  enabled: true', `  listen_addr: 127.0.0.1:${await freePort()}`, '  apps: []', ''].join(
    '\n',
  );
}

function labelLines(labels: Record<string, string>): string[] {
  return ['  labels:', ...Object.entries(labels).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`)];
}

function appYaml(name: string, uri: string, labels: Record<string, string>, description?: string): string {
  return [
    'kind: app',
    'version: v3',
    'metadata:',
    `  name: ${name}`,
    ...(description ? [`  description: ${JSON.stringify(description)}`] : []),
    ...labelLines(labels),
    'spec:',
    `  uri: ${uri}`,
    '',
  ].join('\n');
}

const allowAllAppsRole = [
  'kind: role',
  'version: v7',
  `metadata: { name: ${APP_ROLE} }`,
  'spec:',
  '  allow:',
  "    app_labels: { '*': '*' }",
  '',
].join('\n');

/** Starts the upstream, registers both apps and the two roles; stop() ends the upstream. */
export async function startE2eApps(cluster: ClusterProcess): Promise<E2eUpstream> {
  const upstream = await startNginx({ largeFileMiB: 1 });
  try {
    cluster.apply(appYaml(E2E_WEB_APP.name, upstream.url, E2E_WEB_APP.labels, E2E_WEB_APP.description));
    cluster.apply(appYaml(E2E_TCP_APP.name, `tcp://127.0.0.1:${upstream.port}`, E2E_TCP_APP.labels));
    cluster.apply(allowAllAppsRole);
    cluster.apply(SEED_TRUSTED_APPS_ROLE);
    return upstream;
  } catch (e) {
    await upstream.stop();
    throw e;
  }
}
