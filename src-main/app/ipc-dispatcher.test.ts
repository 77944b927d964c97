// The IPC dispatcher against real composed services in a temp home (no cluster needed): what a
// renderer can send that is wrong, and how failures come back. It lives with the app because
// it composes the app; ipc/ itself never imports app/.
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EventChannel, IpcResult } from '../ipc/contract.ts';
import { createIpcDispatcher, type IpcDispatcher } from '../ipc/dispatcher.ts';
import { INTERNAL_MESSAGE } from '../ipc/ipc-errors.ts';
import { AppClusterStore } from './app-clusters.ts';
import { composeServices, type AppServices } from './compose.ts';
import type { AppLogger } from './logger.ts';

const PROXY = '127.0.0.1:3999';

function recordingLogger(): AppLogger & { lines: string[] } {
  const lines: string[] = [];
  const rec = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${msg} ${JSON.stringify(fields ?? {})}`);
  return { lines, debug: rec('debug'), info: rec('info'), warn: rec('warn'), error: rec('error') };
}

function failure(r: IpcResult<unknown>) {
  assert.equal(r.ok, false, `expected a failure, got ${JSON.stringify(r)}`);
  return (r as { ok: false; error: { code: string; message: string; details?: Record<string, unknown> } }).error;
}

describe('IPC dispatcher', () => {
  let home: string;
  let now: Date;
  let log: ReturnType<typeof recordingLogger>;
  let services: AppServices;
  let ipc: IpcDispatcher;

  beforeEach(() => {
    home = mkdtempSync(join(tmpdir(), 'gh-ipc-'));
    now = new Date('2030-01-01T00:00:00Z');
    log = recordingLogger();
    services = composeServices({
      home,
      deviceHome: join(home, 'device'),
      clock: () => now,
      logger: log,
      host: 'browser',
      localUser: 'alice',
    });
    ipc = createIpcDispatcher(services);
  });
  afterEach(async () => {
    await services.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('app.info answers with the host and version', async () => {
    const r = await ipc.invoke('app.info', {});
    assert.ok(r.ok);
    const v = r.value as { host: string; version: string; platform: string };
    assert.equal(v.host, 'browser');
    assert.match(v.version, /^\d+\.\d+\.\d+/);
    assert.equal(v.platform, process.platform);
  });

  test('an unknown channel is BAD_REQUEST naming it, and so is a non-string or inherited name', async () => {
    const e = failure(await ipc.invoke('clusters.nuke', {}));
    assert.equal(e.code, 'BAD_REQUEST');
    assert.match(e.message, /unknown channel "clusters\.nuke"/);
    assert.equal(failure(await ipc.invoke('toString', {})).code, 'BAD_REQUEST');
    assert.equal(failure(await ipc.invoke('__proto__', {})).code, 'BAD_REQUEST');
    assert.equal(failure(await ipc.invoke(42 as unknown as string, {})).code, 'BAD_REQUEST');
  });

  test('invalid input is BAD_REQUEST naming the field', async () => {
    const bad = failure(await ipc.invoke('clusters.add', { proxy: 'https://x/y' }));
    assert.equal(bad.code, 'BAD_REQUEST');
    assert.match(bad.message, /^invalid input for clusters\.add: proxy: expected HOST or HOST:PORT/);
    const fields = bad.details?.fields as Array<{ path: string }>;
    assert.deepEqual(
      fields.map((f) => f.path),
      ['proxy'],
    );

    const dims = failure(
      await ipc.invoke('terminals.open', { proxy: PROXY, node: 'n', login: 'l', cols: 0, rows: 1.5 }),
    );
    assert.match(dims.message, /cols: /);
    assert.match(dims.message, /rows: /);

    const extra = failure(await ipc.invoke('clusters.list', { sneaky: true }));
    assert.match(extra.message, /sneaky/);

    const missing = failure(await ipc.invoke('auth.login', { proxy: PROXY, user: 'bob' }));
    assert.match(missing.message, /password: /);

    const notObject = failure(await ipc.invoke('terminals.close', 'rm -rf /'));
    assert.equal(notObject.code, 'BAD_REQUEST');
    assert.match(failure(await ipc.invoke('terminals.close', { terminalId: '../t1' })).message, /terminalId: /);
  });

  test('GatehouseError codes, messages and details are kept', async () => {
    const e = failure(await ipc.invoke('clusters.select', { proxy: PROXY }));
    assert.equal(e.code, 'NOT_FOUND');
    assert.match(e.message, /has not been added/);
    assert.deepEqual(e.details, { proxy: PROXY });

    new AppClusterStore(home).upsert({
      proxy: PROXY,
      clusterName: 'c1',
      secondFactor: 'off',
      addedAt: now.toISOString(),
    });
    const notLoggedIn = failure(await ipc.invoke('resources.listServers', { proxy: PROXY }));
    assert.equal(notLoggedIn.code, 'NOT_LOGGED_IN');
    assert.match(notLoggedIn.message, /not logged in to c1/);
    const term = failure(await ipc.invoke('terminals.resize', { terminalId: 't7', cols: 80, rows: 24 }));
    assert.equal(term.code, 'NOT_FOUND');
  });

  test('an expired session is CERT_EXPIRED on every call and emits auth.expired', async () => {
    const store = new AppClusterStore(home);
    store.upsert({ proxy: PROXY, clusterName: 'c1', secondFactor: 'off', addedAt: now.toISOString() });
    store.setUser(PROXY, 'bob');
    const dir = services.core.profiles.paths(PROXY, 'bob').dir;
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'profile.json'),
      JSON.stringify({
        proxy: PROXY,
        user: 'bob',
        cluster: 'c1',
        roles: ['access'],
        logins: ['root', 'alice'],
        validUntil: '2030-01-01T01:00:00.000Z',
        loggedInAt: now.toISOString(),
        sshHostCaKeys: [],
        tlsHostCaCerts: [],
      }),
    );
    const events: Array<[EventChannel, unknown]> = [];
    const off = ipc.onEvent((event, payload) => events.push([event, payload]));

    const list = await ipc.invoke('clusters.list', {});
    assert.ok(list.ok);
    const [summary] = list.value as Array<{ session?: { expired: boolean; logins: string[] } }>;
    assert.equal(summary!.session?.expired, false);

    now = new Date('2030-01-01T02:00:00Z');
    const e = failure(
      await ipc.invoke('terminals.open', { proxy: PROXY, node: 'n1', login: 'root', cols: 80, rows: 24 }),
    );
    assert.equal(e.code, 'CERT_EXPIRED');
    assert.equal(failure(await ipc.invoke('resources.listServers', { proxy: PROXY })).code, 'CERT_EXPIRED');
    assert.deepEqual(events, [
      ['auth.expired', { proxy: PROXY }],
      ['auth.expired', { proxy: PROXY }],
    ]);
    off();
    await ipc.invoke('resources.listServers', { proxy: PROXY });
    assert.equal(events.length, 2, 'no events after unsubscribing');
  });

  test('unexpected errors become INTERNAL with a generic message; the real one is logged', async () => {
    services.clusters.list = () => {
      throw new TypeError('cannot read /home/secret/thing');
    };
    const e = failure(await ipc.invoke('clusters.list', {}));
    assert.equal(e.code, 'INTERNAL');
    assert.equal(e.message, INTERNAL_MESSAGE);
    assert.doesNotMatch(JSON.stringify(e), /secret/);
    assert.ok(log.lines.some((l) => l.startsWith('error unexpected error') && l.includes('/home/secret/thing')));
  });

  test('openExternal only takes web links, and says so when the host cannot open them', async () => {
    const js = failure(await ipc.invoke('shell.openExternal', { url: 'file:///etc/passwd' }));
    assert.equal(js.code, 'BAD_REQUEST');
    assert.match(js.message, /only http and https/);
    const web = failure(await ipc.invoke('shell.openExternal', { url: 'https://example.com/docs' }));
    assert.match(web.message, /open https:\/\/example\.com\/docs in your browser/);
  });

  test('gateway channels: the renderer sends ids and names, never a command; bad ones are refused by field', async () => {
    const run = failure(await ipc.invoke('gateways.runClient', { gatewayId: 'g1', cols: 80, rows: 24, command: 'sh' }));
    assert.equal(run.code, 'BAD_REQUEST');
    assert.match(run.message, /command/, 'an extra key (a command line) is named and refused');
    const user = failure(
      await ipc.invoke('gateways.createDb', { proxy: PROXY, database: 'orders', protocol: 'postgres', dbUser: 'a b' }),
    );
    assert.match(user.message, /dbUser: no spaces/);
    const protocol = failure(
      await ipc.invoke('gateways.createDb', { proxy: PROXY, database: 'orders', protocol: 'mongo', dbUser: 'a' }),
    );
    assert.match(protocol.message, /^invalid input for gateways.createDb: protocol/);
    const port = failure(await ipc.invoke('gateways.setPort', { gatewayId: 'g1', port: 70000 }));
    assert.match(port.message, /port/);
    assert.equal(failure(await ipc.invoke('gateways.close', { gatewayId: 'g9' })).code, 'NOT_FOUND');
    assert.equal(
      failure(await ipc.invoke('gateways.runClient', { gatewayId: 'g9', cols: 80, rows: 24 })).code,
      'NOT_FOUND',
    );
    const unknownCluster = failure(
      await ipc.invoke('gateways.createDb', {
        proxy: PROXY,
        database: 'orders',
        protocol: 'postgres',
        dbUser: 'alice',
      }),
    );
    assert.equal(unknownCluster.code, 'NOT_FOUND', 'a cluster this app does not know');
    assert.deepEqual(await ipc.invoke('gateways.list', {}), { ok: true, value: [] });
  });

  test('app channels: a name and a port only (no URL, no kind); Launch takes a gateway id', async () => {
    const url = failure(await ipc.invoke('gateways.createApp', { proxy: PROXY, app: 'grafana', url: 'file:///etc' }));
    assert.equal(url.code, 'BAD_REQUEST');
    assert.match(url.message, /url/, 'a URL from the renderer is named and refused: main builds it');
    const port = failure(await ipc.invoke('gateways.createApp', { proxy: PROXY, app: 'grafana', port: 0 }));
    assert.match(port.message, /^invalid input for gateways.createApp: port/);
    assert.match(failure(await ipc.invoke('gateways.createApp', { proxy: PROXY, app: '' })).message, /app/);
    assert.match(failure(await ipc.invoke('gateways.launchApp', { gatewayId: 'x' })).message, /gatewayId/);
    assert.equal(failure(await ipc.invoke('gateways.launchApp', { gatewayId: 'g9' })).code, 'NOT_FOUND');
    const unknownCluster = failure(await ipc.invoke('gateways.createApp', { proxy: PROXY, app: 'grafana' }));
    assert.equal(unknownCluster.code, 'NOT_FOUND', 'a cluster this app does not know');
    assert.equal(failure(await ipc.invoke('resources.listApps', { proxy: PROXY })).code, 'NOT_FOUND');
  });

  test('attaching to a terminal that does not exist is refused', () => {
    assert.throws(() => ipc.attachTerminal('t1', () => {}), { code: 'NOT_FOUND' });
    assert.throws(() => ipc.attachTerminal('x', () => {}), { code: 'BAD_REQUEST' });
  });

  test('device channels: enroll takes a token or auto (not both, not neither); fields are checked by name', async () => {
    const both = failure(await ipc.invoke('device.enroll', { proxy: PROXY, token: 'abc', auto: true }));
    assert.equal(both.code, 'BAD_REQUEST');
    assert.match(both.message, /give a token, or auto: true/);
    assert.match(failure(await ipc.invoke('device.enroll', { proxy: PROXY })).message, /give a token, or auto: true/);
    assert.match(failure(await ipc.invoke('device.enroll', { proxy: PROXY, token: '   ' })).message, /token: /);
    assert.match(
      failure(await ipc.invoke('device.enroll', { proxy: PROXY, token: 'x'.repeat(513) })).message,
      /token: /,
    );
    assert.match(failure(await ipc.invoke('device.status', { refresh: 'yes' })).message, /refresh: /);
    assert.match(failure(await ipc.invoke('device.status', { proxy: 'a b' })).message, /proxy: /);
    assert.match(failure(await ipc.invoke('device.myDevices', {})).message, /proxy: /);
    assert.match(failure(await ipc.invoke('device.diagnostics', { proxy: PROXY, secrets: true })).message, /secrets/);
    const events: Array<[EventChannel, unknown]> = [];
    ipc.onEvent((event, payload) => events.push([event, payload]));
    new AppClusterStore(home).upsert({
      proxy: PROXY,
      clusterName: 'c1',
      secondFactor: 'off',
      addedAt: now.toISOString(),
    });
    const notLoggedIn = failure(await ipc.invoke('device.enroll', { proxy: PROXY, auto: true }));
    assert.equal(notLoggedIn.code, 'NOT_LOGGED_IN');
    assert.equal(failure(await ipc.invoke('device.myDevices', { proxy: PROXY })).code, 'NOT_LOGGED_IN');
    assert.deepEqual(events, [], 'a refused enrollment reports no progress');
  });

  test('cluster probe and add: a proxy address, and a fingerprint that looks like one', async () => {
    assert.match(failure(await ipc.invoke('clusters.probe', { proxy: 'https://x/' })).message, /proxy: /);
    assert.match(failure(await ipc.invoke('clusters.probe', { proxy: PROXY, pin: 'x' })).message, /pin/);
    const fp = failure(await ipc.invoke('clusters.add', { proxy: PROXY, caFingerprint: 'SHA256:zz' }));
    assert.match(fp.message, /^invalid input for clusters.add: caFingerprint: a SHA-256 fingerprint/);
  });
});
