// The app's database gateways without a cluster: a real GatewayService listening on 127.0.0.1,
// whose route access refuses the way the db service does ("unauthorized device"), so what the
// renderer is told (status events, the refusal with its code, port moves, Run's command) can be
// checked end to end inside main.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, GatehouseError } from '../../src-shared/errors.ts';
import { GatewayService } from '../gateways/gateway-service.ts';
import { RouteProtocols } from '../gateways/route.ts';
import type { EventChannel, EventPayloads } from '../ipc/contract.ts';
import { AppGateways, refusalOf } from './gateways-service.ts';
import type { OpenLocalTerminalInput } from './terminals-service.ts';

const PROXY = 'proxy.test:3080';

function harness(opts: { searchPath?: string } = {}) {
  const events: Array<[EventChannel, unknown]> = [];
  const opened: OpenLocalTerminalInput[] = [];
  const service = new GatewayService({
    protocols: new RouteProtocols([{ kind: 'db', alpn: () => 'test-db', header: (r) => ({ db: r.name }) }]),
  });
  const gateways = new AppGateways({
    core: { proxyAccess: () => assert.fail('routeAccess is given') },
    sessions: {
      require: (proxy: string) => {
        if (proxy !== PROXY) throw new GatehouseError(ErrorCode.NOT_LOGGED_IN, `not logged in to ${proxy}`);
        return {} as never;
      },
    },
    gateways: service,
    events: { emit: <E extends EventChannel>(e: E, p: EventPayloads[E]) => void events.push([e, p]) },
    terminals: {
      openLocal: (input) => {
        opened.push(input);
        return { terminalId: 't7' };
      },
    },
    routeAccess: () => {
      throw new GatehouseError(ErrorCode.ACCESS_DENIED, 'unauthorized device');
    },
    clock: () => new Date('2026-01-02T03:04:05Z'),
    statusPollMs: 20,
    ...(opts.searchPath !== undefined ? { searchPath: opts.searchPath } : {}),
  });
  return { gateways, events, opened };
}

function freePort(): Promise<{ port: number; server: net.Server }> {
  return new Promise((resolve) => {
    const server = net
      .createServer()
      .listen(0, '127.0.0.1', () => resolve({ port: (server.address() as net.AddressInfo).port, server }));
  });
}

function connectAndWaitClose(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('error', reject);
    s.once('close', () => resolve());
  });
}

const input = { proxy: PROXY, database: 'orders', protocol: 'postgres' as const, dbUser: 'alice', dbName: 'sales' };

describe('AppGateways (database gateways)', () => {
  let close: () => Promise<void> = async () => {};
  afterEach(() => close());

  test('open lists the gateway with its address and command; a refusal is reported with the device code', async () => {
    const h = harness();
    close = () => h.gateways.closeAll();
    const g = await h.gateways.openDb(input);
    assert.equal(g.id, 'g1');
    assert.equal(g.localAddress, '127.0.0.1');
    assert.ok(g.localPort > 0);
    assert.equal(g.clientCommand, `psql "host=127.0.0.1 port=${g.localPort} user=alice dbname=sales sslmode=disable"`);
    assert.deepEqual(h.gateways.summaries(), [g]);

    await connectAndWaitClose(g.localPort);
    const refusal = {
      code: ErrorCode.DEVICE_UNTRUSTED,
      message: 'unauthorized device',
      at: '2026-01-02T03:04:05.000Z',
    };
    assert.deepEqual(h.gateways.summaries()[0]!.lastRefusal, refusal);
    const statuses = h.events.filter(([e]) => e === 'gateways.status').map(([, p]) => p as { lastRefusal?: unknown });
    assert.deepEqual(statuses.at(-1)?.lastRefusal, refusal, 'the renderer hears of the refusal');
  });

  test('without a session nothing listens', async () => {
    const h = harness();
    close = () => h.gateways.closeAll();
    await assert.rejects(
      h.gateways.openDb({ ...input, proxy: 'other.test:3080' }),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.NOT_LOGGED_IN,
    );
    assert.deepEqual(h.gateways.summaries(), []);
  });

  test('a taken port is a CONFLICT that leaves the gateway where it was; a free one moves it, same id', async () => {
    const h = harness();
    const taken = await freePort();
    const target = await freePort();
    await new Promise<void>((r) => target.server.close(() => r()));
    close = async () => {
      taken.server.close();
      await h.gateways.closeAll();
    };
    const g = await h.gateways.openDb(input);
    await assert.rejects(
      h.gateways.setPort(g.id, taken.port),
      (e: unknown) =>
        e instanceof GatehouseError && e.code === ErrorCode.CONFLICT && e.message.includes(String(taken.port)),
    );
    assert.equal(h.gateways.summaries()[0]!.localPort, g.localPort);

    const moved = await h.gateways.setPort(g.id, target.port);
    assert.equal(moved.id, g.id);
    assert.equal(moved.localPort, target.port);
    assert.equal(moved.kind, 'db');
    assert.match(moved.kind === 'db' ? moved.clientCommand : '', new RegExp(`port=${target.port} `));
    await assert.rejects(
      new Promise((resolve, reject) =>
        net.connect({ host: '127.0.0.1', port: g.localPort }, () => resolve(null)).once('error', reject),
      ),
      /ECONNREFUSED/,
      'the old port no longer listens',
    );
    await connectAndWaitClose(moved.localPort);
    assert.equal(
      h.gateways.summaries()[0]!.lastRefusal?.code,
      ErrorCode.DEVICE_UNTRUSTED,
      'still watched after the move',
    );
  });

  test('Run starts the program found on PATH with the arguments built from the gateway', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'gh-dbclient-'));
    const h = harness({ searchPath: bin });
    close = async () => {
      await h.gateways.closeAll();
      rmSync(bin, { recursive: true, force: true });
    };
    const g = await h.gateways.openDb({ ...input, protocol: 'mysql' });
    assert.throws(
      () => h.gateways.runClient(g.id, 80, 24),
      (e: unknown) => e instanceof GatehouseError && e.code === ErrorCode.NOT_FOUND && /mariadb-client/.test(e.message),
    );
    writeFileSync(join(bin, 'mysql'), '#!/bin/sh\n');
    chmodSync(join(bin, 'mysql'), 0o755);
    assert.deepEqual(h.gateways.runClient(g.id, 80, 24), { terminalId: 't7' });
    assert.deepEqual(h.opened, [
      {
        proxy: PROXY,
        file: join(bin, 'mysql'),
        args: [
          '--protocol=TCP',
          '--host=127.0.0.1',
          `--port=${g.localPort}`,
          '--user=alice',
          '--ssl-mode=DISABLED',
          'sales',
        ],
        cols: 80,
        rows: 24,
      },
    ]);
  });

  test('close stops listening, tells the renderer, and an unknown id is NOT_FOUND', async () => {
    const h = harness();
    close = () => h.gateways.closeAll();
    const g = await h.gateways.openDb(input);
    await h.gateways.close(g.id);
    assert.deepEqual(h.gateways.summaries(), []);
    assert.deepEqual(h.events.at(-1), ['gateways.closed', { gatewayId: g.id }]);
    await assert.rejects(h.gateways.close(g.id), (e: unknown) => (e as GatehouseError).code === ErrorCode.NOT_FOUND);
  });

  test('refusalOf keeps other codes as they are', () => {
    const at = new Date(0);
    assert.equal(
      refusalOf(new GatehouseError(ErrorCode.ACCESS_DENIED, 'access to db denied'), at).code,
      'ACCESS_DENIED',
    );
    assert.equal(refusalOf(new GatehouseError(ErrorCode.DB_UNREACHABLE, 'x'), at).code, 'DB_UNREACHABLE');
  });
});
