// The application-access integration tests' common ground: a real cluster with an app service, a
// real nginx (static page, large file, /ws proxied to a WebSocket echo) and a header-echo upstream
// (node:http, in the test's process), registered both ways an admin can: the header echo statically
// in the daemon's config (app_service.apps), nginx as HTTP and as TCP apps with `gatectl create -f`.
// Helpers run the real `gate proxy app` gateway as a person (their own GATEHOUSE_HOME) and read
// the audit log. Each test file starts its own world; stop() tears all of it down.
import { spawn, type ChildProcess } from 'node:child_process';
import { get } from 'node:https';
import { join } from 'node:path';
import { createRemoteJWKSet, customFetch, jwtVerify, type JWTPayload } from 'jose';
import { freePort, TestCluster, type ClusterOptions } from '../../integration/harness.ts';
import { startNginx, type NginxServer } from '../../../test-support/apps/nginx.ts';
import { startHeaderEcho, type HeaderEcho } from '../../../test-support/apps/header-echo.ts';
import { JWKS_PATH } from '../../../src-shared/cert-fields.ts';

/** The registered apps: nginx over HTTP (prod) and as a TCP app (dev), the header echo (dev, static). */
export const WEB_APP = 'web';
export const TCP_APP = 'web-tcp';
export const ECHO_APP = 'echo';
/** The rewrite header the static echo app adds to every upstream request. */
export const ECHO_REWRITE = { name: 'X-Env', value: 'dev' };

export interface AppWorld {
  cluster: TestCluster;
  nginx: NginxServer;
  echo: HeaderEcho;
  /** GATEHOUSE_HOME of a person's `gate`. */
  home(who: string): string;
  /** `gate` as `who` (their own GATEHOUSE_HOME). */
  gateAs(
    who: string,
    args: string[],
    input?: string,
    env?: Record<string, string>,
  ): { status: number; out: string; stdout: string };
  /** Adds a Gatehouse user with `roles` (and traits) and logs their `gate` in. */
  addUserAndLogin(who: string, roles: string[], extraAddArgs?: string[]): void;
  /** The proxy's TLS CA (what `gate login --ca-pin` pinned), PEM. */
  proxyCaPem: string;
  stop(): Promise<void>;
}

/** A `kind: app` resource as YAML. */
export function appResourceYaml(opts: {
  name: string;
  uri: string;
  labels?: Record<string, string>;
  rewriteHeaders?: { name: string; value: string }[];
}): string {
  const labels = Object.entries(opts.labels ?? { env: 'test' }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`);
  const rewrite = opts.rewriteHeaders?.length
    ? [
        '  rewrite:',
        '    headers:',
        ...opts.rewriteHeaders.map(
          (h) => `      - {name: ${JSON.stringify(h.name)}, value: ${JSON.stringify(h.value)}}`,
        ),
      ]
    : [];
  return [
    'kind: app',
    'version: v3',
    'metadata:',
    `  name: ${opts.name}`,
    ...(labels.length ? ['  labels:', ...labels] : []),
    'spec:',
    `  uri: ${opts.uri}`,
    ...rewrite,
    '',
  ].join('\n');
}

/** A role allowing apps by label (deny labels and device_trust_mode optional). */
export function appRoleYaml(
  name: string,
  allow: Record<string, string>,
  opts: { deny?: Record<string, string>; deviceTrustMode?: string } = {},
): string {
  const map = (m: Record<string, string>) =>
    `{ ${Object.entries(m)
      .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
      .join(', ')} }`;
  return [
    'kind: role',
    'version: v7',
    `metadata: { name: ${name} }`,
    'spec:',
    '  allow:',
    `    app_labels: ${map(allow)}`,
    ...(opts.deny ? ['  deny:', `    app_labels: ${map(opts.deny)}`] : []),
    ...(opts.deviceTrustMode ? ['  options:', `    device_trust_mode: ${opts.deviceTrustMode}`] : []),
    '',
  ].join('\n');
}

/** The seed's role example (REFERENCE.md), verbatim. */
export const SEED_TRUSTED_APPS_ROLE = `kind: role
version: v7
metadata: {name: require-trusted-device-apps}
spec:
  options: {device_trust_mode: required}
  allow:
    app_labels: {'*': '*'}
`;

/** The app_service section of the daemon's config: on, its own loopback listener, the echo app static. */
export async function appServiceConfig(echoUrl: string): Promise<string> {
  return [
    'app_service:',
    '  enabled: true',
    `  listen_addr: 127.0.0.1:${await freePort()}`,
    '  apps:',
    `    - name: ${ECHO_APP}`,
    '      description: Echoes each request as JSON',
    `      uri: ${echoUrl}`,
    '      labels: {env: dev}',
    `      rewrite: {headers: [{name: ${ECHO_REWRITE.name}, value: ${ECHO_REWRITE.value}}]}`,
    '',
  ].join('\n');
}

/** Cluster + nginx + header echo, the three apps registered. */
export async function startAppWorld(opts: ClusterOptions & { largeFileMiB?: number } = {}): Promise<AppWorld> {
  let nginx: NginxServer | undefined;
  let echo: HeaderEcho | undefined;
  let cluster: TestCluster | undefined;
  const stop = async () => {
    await cluster?.destroy();
    await nginx?.stop();
    await echo?.stop();
  };
  try {
    nginx = await startNginx({ largeFileMiB: opts.largeFileMiB ?? 16 });
    echo = await startHeaderEcho();
    cluster = new TestCluster({ ...opts, extraConfig: `${await appServiceConfig(echo.url)}${opts.extraConfig ?? ''}` });
    await cluster.start();
    const c = cluster;
    c.apply(appResourceYaml({ name: WEB_APP, uri: nginx.url, labels: { env: 'prod' } }));
    c.apply(appResourceYaml({ name: TCP_APP, uri: `tcp://127.0.0.1:${nginx.port}`, labels: { env: 'dev' } }));
    const ca = c.gatectl(['auth', 'export', '--type', 'tls-host']);
    if (ca.status !== 0 || !ca.stdout.includes('BEGIN CERTIFICATE')) {
      throw new Error(`gatectl auth export --type tls-host: ${ca.stderr}${ca.stdout}`);
    }
    const home = (who: string) => join(c.dir, `home-${who}`);
    const gateAs = (who: string, args: string[], input = '', env: Record<string, string> = {}) => {
      const r = c.gate(args, input, { GATEHOUSE_HOME: home(who), ...env });
      return { status: r.status, out: r.stdout + r.stderr, stdout: r.stdout };
    };
    return {
      cluster: c,
      nginx,
      echo,
      home,
      gateAs,
      proxyCaPem: ca.stdout,
      addUserAndLogin(who, roles, extraAddArgs = []) {
        const password = `${who}-password-1`;
        const add = c.gatectl(
          ['users', 'add', who, `--roles=${roles.join(',')}`, ...extraAddArgs, '--password-stdin'],
          `${password}\n`,
        );
        if (add.status !== 0) throw new Error(`gatectl users add ${who} failed:\n${add.stderr}`);
        const login = gateAs(
          who,
          ['login', '--proxy', c.proxyAddr, '--ca-pin', c.caPin, '--user', who, '--password-stdin'],
          `${password}\n`,
        );
        if (login.status !== 0) throw new Error(`gate login ${who} failed:\n${login.out}`);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

export interface AppGateway {
  port: number;
  /** http://127.0.0.1:PORT */
  url: string;
  pid: number | undefined;
  /** What `gate proxy app` printed so far (its console: a TCP app's denials show here). */
  output(): string;
  stop(): Promise<void>;
}

/** `gate proxy app NAME -p PORT` as `who`, running until stop(); resolves once it says it listens. */
export async function startAppGateway(
  world: Pick<AppWorld, 'cluster' | 'home'>,
  who: string,
  app: string,
  env: Record<string, string> = {},
): Promise<AppGateway> {
  const port = await freePort();
  const args = ['proxy', 'app', app, '-p', String(port)];
  const child: ChildProcess = spawn(process.execPath, world.cluster.gateArgv(args), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, GATEHOUSE_DATA_DIR: world.cluster.dataDir, GATEHOUSE_HOME: world.home(who), ...env },
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`gate ${args.join(' ')} exited ${child.exitCode}:\n${output}`);
    // The "Proxying …" line is printed once the listener is up. Waiting for it (not for the port
    // to accept) means callers that read the output find it, and no probe connection opens an
    // app session of its own.
    if (/^Proxying /m.test(output)) {
      return { port, url: `http://127.0.0.1:${port}`, pid: child.pid, output: () => output, stop };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stop();
  throw new Error(`gate ${args.join(' ')} did not listen on 127.0.0.1:${port} within 20 s:\n${output}`);
}

/** Events of `type` from `gatectl audit` (JSON Lines, oldest first). */
export function auditEvents(cluster: TestCluster, type: string): Record<string, unknown>[] {
  const r = cluster.gatectl(['audit', '--format', 'json', '--order', 'asc', '--limit', '5000', '--type', type]);
  if (r.status !== 0) throw new Error(`gatectl audit --type ${type} failed:\n${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * Verifies a Gatehouse-Jwt-Assertion as an app developer would: jose's createRemoteJWKSet against
 * https://PROXY/.well-known/jwks.json, trusting the cluster's proxy CA (fetched with node:https,
 * since the global fetch cannot be given a CA per request).
 */
export async function verifyAppJwt(world: AppWorld, jwt: string, audience: string): Promise<JWTPayload> {
  const url = new URL(`https://${world.cluster.proxyAddr}${JWKS_PATH}`);
  const jwks = createRemoteJWKSet(url, {
    [customFetch]: (href: string) =>
      new Promise<Response>((resolve, reject) => {
        get(href, { ca: world.proxyCaPem, timeout: 10_000 }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve(
              new Response(Buffer.concat(chunks), {
                status: res.statusCode ?? 500,
                headers: { 'content-type': res.headers['content-type'] ?? 'application/json' },
              }),
            ),
          );
          res.on('error', reject);
        }).on('error', reject);
      }),
  });
  const { payload } = await jwtVerify(jwt, jwks, { audience, algorithms: ['ES256'] });
  return payload;
}
